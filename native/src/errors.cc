#include "errors.h"

namespace bottle {

Napi::Error MakeError(Napi::Env env, const std::string& error_code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, error_code));
  return error;
}

void ThrowError(Napi::Env env, const std::string& error_code, const std::string& message) {
  throw MakeError(env, error_code, message);
}

}  // namespace bottle
