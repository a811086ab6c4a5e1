// Errors that cross the native boundary. Every error handed to JavaScript carries a `.code`
// string that matches lib/util/errors.ts; the message names what was wrong.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

namespace bottle {

// Stable codes shared with the TypeScript side.
namespace code {
inline constexpr const char* kInvalidInput = "INVALID_INPUT";
inline constexpr const char* kFrameExpired = "FRAME_EXPIRED";
inline constexpr const char* kPoolClosed = "POOL_CLOSED";
inline constexpr const char* kSizeMismatch = "SIZE_MISMATCH";
inline constexpr const char* kClosed = "CLOSED";
inline constexpr const char* kInternal = "INTERNAL";
}  // namespace code

// A failure raised in plain C++ (worker threads included). It holds no N-API value, so any
// thread may throw and catch it; the main thread turns it into a JS Error with ToJsError().
class NativeFailure : public std::runtime_error {
 public:
  NativeFailure(std::string failure_code, const std::string& message)
      : std::runtime_error(message), code_(std::move(failure_code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Main thread only: a JS Error with `.code` set.
Napi::Error MakeError(Napi::Env env, const std::string& error_code, const std::string& message);

// Main thread only: throws a JS Error with `.code` (as a C++ exception that node-addon-api
// turns into a pending JS exception when the call returns).
[[noreturn]] void ThrowError(Napi::Env env, const std::string& error_code,
                             const std::string& message);

}  // namespace bottle
