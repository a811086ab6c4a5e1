// JavaScript face of GigeCameraCore (NativeGigeCamera in lib/native/types.ts) and discover().
//
// Threads: every method here runs on the JS main thread, including Deliver(), which the
// thread-safe function calls there. The camera thread only calls the thread-safe function with a
// GigeEvent it allocated; ownership passes with the call. Callbacks of pending commands live in
// `callbacks_`, touched by the main thread alone.
//
// Lifetime: while the camera is open or a command is pending, the wrapper references itself and
// keeps the thread-safe function ref'ed (events must be delivered, the process stays up). Once it
// is closed it holds neither, so a closed camera never keeps Node running, and its thread has been
// joined.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "gige_camera.h"

namespace bottle {

class GigeWrap : public Napi::ObjectWrap<GigeWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit GigeWrap(const Napi::CallbackInfo& info);
  ~GigeWrap() override;

 private:
  static void CallJs(Napi::Env env, Napi::Function unused, GigeWrap* self, GigeEvent* event);
  using EventChannel = Napi::TypedThreadSafeFunction<GigeWrap, GigeEvent, CallJs>;
  struct ChannelFinalizer {
    std::shared_ptr<GigeCameraCore> core;
    std::shared_ptr<bool> finalized;
  };
  static void FinalizeChannel(Napi::Env env, ChannelFinalizer* finalizer, GigeWrap* self);

  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Configure(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value SoftwareTrigger(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  Napi::Value Send(const Napi::CallbackInfo& info, GigeCommand command, size_t callback_index);
  void Deliver(Napi::Env env, std::unique_ptr<GigeEvent> event);
  void Hold(Napi::Env env);
  void Let(Napi::Env env);
  bool ChannelOpen() const { return !released_ && !*finalized_; }

  Napi::ObjectReference pool_object_;
  Napi::FunctionReference on_event_;
  std::shared_ptr<GigeCameraCore> core_;
  EventChannel events_;
  std::shared_ptr<bool> finalized_ = std::make_shared<bool>(false);
  bool released_ = false;
  bool closed_ = false;
  bool open_ = false;
  int holds_ = 0;
  uint64_t next_id_ = 1;
  uint64_t close_id_ = 0;
  uint64_t open_id_ = 0;
  std::unordered_map<uint64_t, Napi::FunctionReference> callbacks_;
};

// discover(callback(err, devices)): lists cameras on a libuv worker.
Napi::Value Discover(const Napi::CallbackInfo& info);

}  // namespace bottle
