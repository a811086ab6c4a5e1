// Failures raised in plain C++ code (worker threads included), with the stable codes shared
// with lib/util/errors.ts. No N-API here: kernels, pool and inspector threads include only this.
#pragma once

#include <stdexcept>
#include <string>

namespace bottle {

namespace code {
inline constexpr const char* kInvalidInput = "INVALID_INPUT";
inline constexpr const char* kFrameExpired = "FRAME_EXPIRED";
inline constexpr const char* kPoolClosed = "POOL_CLOSED";
inline constexpr const char* kSizeMismatch = "SIZE_MISMATCH";
inline constexpr const char* kClosed = "CLOSED";
inline constexpr const char* kInternal = "INTERNAL";
}  // namespace code

// Any thread may throw and catch it; the main thread turns it into a JS Error with a `.code`.
class NativeFailure : public std::runtime_error {
 public:
  NativeFailure(std::string failure_code, const std::string& message)
      : std::runtime_error(message), code_(std::move(failure_code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace bottle
