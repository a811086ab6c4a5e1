// JavaScript face of FramePoolCore (NativeFramePool in lib/native/types.ts).
// Main thread only. Holds the core through a shared_ptr that inspectors share.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "frame_pool.h"

namespace bottle {

class PoolWrap : public Napi::ObjectWrap<PoolWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PoolWrap(const Napi::CallbackInfo& info);

  const std::shared_ptr<FramePoolCore>& core() const { return core_; }

 private:
  Napi::Value SlotCount(const Napi::CallbackInfo& info);
  Napi::Value SlotBytes(const Napi::CallbackInfo& info);
  Napi::Value HeldSlots(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value IsValid(const Napi::CallbackInfo& info);
  Napi::Value Pin(const Napi::CallbackInfo& info);
  void Unpin(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Reserve(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);
  void Release(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void ThrowIfClosed(Napi::Env env) const;

  std::shared_ptr<FramePoolCore> core_;
  std::vector<uint32_t> js_pins_;  // pins taken through pin(), per slot
};

// Reads a whole number argument, throwing INVALID_INPUT naming `what` when it is not one.
double NumberArg(const Napi::CallbackInfo& info, size_t index, const char* what);

}  // namespace bottle
