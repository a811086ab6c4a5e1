// Errors handed to JavaScript. Every one carries a `.code` string that matches
// lib/util/errors.ts; the message names what was wrong. Main thread only.
#pragma once

#include <napi.h>

#include <string>

#include "failure.h"

namespace bottle {

// A JS Error with `.code` set.
Napi::Error MakeError(Napi::Env env, const std::string& error_code, const std::string& message);

// Throws a JS Error with `.code` (as a C++ exception that node-addon-api turns into a pending JS
// exception when the call returns).
[[noreturn]] void ThrowError(Napi::Env env, const std::string& error_code,
                             const std::string& message);

}  // namespace bottle
