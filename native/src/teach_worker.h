// teach(images, options, callback): builds a reference on a libuv worker thread.
#pragma once

#include <napi.h>

namespace bottle {

// Main thread: validates the arguments, copies every image into memory the worker owns, and
// queues the worker. The callback receives (error with .code) or (null, reference).
Napi::Value Teach(const Napi::CallbackInfo& info);

}  // namespace bottle
