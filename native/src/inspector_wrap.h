// JavaScript face of InspectorCore (NativeInspector in lib/native/types.ts).
//
// Threads: every method here runs on the JS main thread, including Deliver(), which the
// thread-safe function calls there. Worker threads only call the thread-safe function with a
// JobResult they allocated; ownership of the result passes with the call. The JS callbacks live
// in `callbacks_`, touched by the main thread alone.
//
// Lifetime: the wrapper holds a strong reference to the JS pool object (and shares its core), so
// the pool cannot be collected under it. While jobs are pending it references itself and keeps
// the thread-safe function ref'ed, so results are delivered; when idle or closed it holds neither,
// so an idle inspector never keeps the Node process alive.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "inspector.h"

namespace bottle {

class InspectorWrap : public Napi::ObjectWrap<InspectorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit InspectorWrap(const Napi::CallbackInfo& info);
  ~InspectorWrap() override;

 private:
  static void CallJs(Napi::Env env, Napi::Function unused, InspectorWrap* self, JobResult* result);
  using ResultChannel = Napi::TypedThreadSafeFunction<InspectorWrap, JobResult, CallJs>;

  // Owned by the thread-safe function's finalizer, which Node may run before or after this
  // wrapper is destroyed (at environment teardown). It joins the worker threads before the
  // thread-safe function is freed and tells the wrapper the channel is gone.
  struct ChannelFinalizer {
    std::shared_ptr<InspectorCore> core;
    std::shared_ptr<bool> finalized;
  };
  static void FinalizeChannel(Napi::Env env, ChannelFinalizer* finalizer, InspectorWrap* self);

  Napi::Value Inspect(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void Deliver(Napi::Env env, std::unique_ptr<JobResult> result);
  bool ChannelOpen() const;
  void JobStarted(Napi::Env env);
  void JobEnded(Napi::Env env);

  Napi::ObjectReference pool_object_;
  std::shared_ptr<InspectorCore> core_;
  ResultChannel results_;
  std::shared_ptr<bool> results_finalized_ = std::make_shared<bool>(false);
  bool results_released_ = false;
  bool closed_ = false;
  uint64_t next_job_id_ = 1;
  std::unordered_map<uint64_t, Napi::FunctionReference> callbacks_;
};

}  // namespace bottle
