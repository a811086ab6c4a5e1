#include "gige_wrap.h"

#include <cmath>
#include <string>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "gige_config.h"
#include "gige_discovery.h"
#include "pool_wrap.h"

namespace bottle {

namespace {

std::optional<std::string> OptString(Napi::Env env, const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsString()) ThrowError(env, code::kInvalidInput, std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::optional<double> OptNumber(Napi::Env env, const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return std::nullopt;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    ThrowError(env, code::kInvalidInput, std::string(name) + " must be a finite number");
  }
  return v.As<Napi::Number>().DoubleValue();
}

std::optional<int64_t> OptInteger(Napi::Env env, const Napi::Object& o, const char* name) {
  std::optional<double> d = OptNumber(env, o, name);
  if (!d) return std::nullopt;
  if (*d != std::floor(*d) || std::fabs(*d) > 9007199254740991.0) {
    ThrowError(env, code::kInvalidInput, std::string(name) + " must be a whole number");
  }
  return static_cast<int64_t>(*d);
}

GigeFeatures ParseFeatures(Napi::Env env, const Napi::Object& o) {
  GigeFeatures f;
  f.pixel_format = OptString(env, o, "pixelFormat");
  f.width = OptInteger(env, o, "width");
  f.height = OptInteger(env, o, "height");
  f.offset_x = OptInteger(env, o, "offsetX");
  f.offset_y = OptInteger(env, o, "offsetY");
  f.exposure_us = OptNumber(env, o, "exposureUs");
  f.gain = OptNumber(env, o, "gain");
  f.frame_rate = OptNumber(env, o, "frameRate");
  f.trigger_mode = OptString(env, o, "triggerMode");
  f.trigger_line = OptString(env, o, "triggerLine");
  f.trigger_edge = OptString(env, o, "triggerEdge");
  f.packet_size = OptInteger(env, o, "packetSize");
  f.packet_delay_ns = OptInteger(env, o, "packetDelayNs");
  return f;
}

Napi::Object FieldsToJs(Napi::Env env, const GigeFields& fields) {
  Napi::Object out = Napi::Object::New(env);
  for (const GigeField& f : fields) {
    if (const double* d = std::get_if<double>(&f.value)) {
      out.Set(f.name, Napi::Number::New(env, *d));
    } else {
      out.Set(f.name, Napi::String::New(env, std::get<std::string>(f.value)));
    }
  }
  return out;
}

Napi::Function CallbackArg(const Napi::CallbackInfo& info, size_t index) {
  if (index >= info.Length() || !info[index].IsFunction()) {
    ThrowError(info.Env(), code::kInvalidInput, "the last argument must be a callback function");
  }
  return info[index].As<Napi::Function>();
}

void CallSafely(Napi::Env env, const Napi::Function& fn, const std::vector<napi_value>& args) {
  try {
    fn.Call(env.Global(), args);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace

Napi::Function GigeWrap::Define(Napi::Env env) {
  return DefineClass(env, "GigeCamera",
                     {
                         InstanceMethod<&GigeWrap::Open>("open"),
                         InstanceMethod<&GigeWrap::Configure>("configure"),
                         InstanceMethod<&GigeWrap::Start>("start"),
                         InstanceMethod<&GigeWrap::Stop>("stop"),
                         InstanceMethod<&GigeWrap::SoftwareTrigger>("softwareTrigger"),
                         InstanceMethod<&GigeWrap::Counters>("counters"),
                         InstanceMethod<&GigeWrap::Close>("close"),
                     });
}

// new GigeCamera(onEvent)
GigeWrap::GigeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GigeWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    ThrowError(env, code::kInvalidInput, "new GigeCamera(onEvent) needs a function");
  }
  on_event_ = Napi::Persistent(info[0].As<Napi::Function>());

  auto channel = std::make_shared<EventChannel>();
  core_ = std::make_shared<GigeCameraCore>([channel](std::unique_ptr<GigeEvent> event) {
    if (channel->NonBlockingCall(event.get()) == napi_ok) event.release();
  });
  auto* finalizer = new ChannelFinalizer{core_, finalized_};
  events_ = EventChannel::New(env, "bottle-inspection-gige", 0, 1, this, FinalizeChannel, finalizer);
  *channel = events_;
  events_.Unref(env);
}

void GigeWrap::FinalizeChannel(Napi::Env, ChannelFinalizer* finalizer, GigeWrap*) {
  std::unique_ptr<ChannelFinalizer> owned(finalizer);
  owned->core->Shutdown();
  *owned->finalized = true;
}

GigeWrap::~GigeWrap() {
  // Collected only when closed or never opened with nothing pending.
  core_->Shutdown();
  if (ChannelOpen()) {
    released_ = true;
    events_.Abort();
  }
}

void GigeWrap::CallJs(Napi::Env env, Napi::Function, GigeWrap* self, GigeEvent* raw) {
  std::unique_ptr<GigeEvent> event(raw);
  if (env == nullptr || self == nullptr) return;
  self->Deliver(env, std::move(event));
}

void GigeWrap::Hold(Napi::Env env) {
  if (holds_++ == 0) {
    Ref();
    if (ChannelOpen()) events_.Ref(env);
  }
}

void GigeWrap::Let(Napi::Env env) {
  if (holds_ > 0 && --holds_ == 0) {
    if (ChannelOpen()) events_.Unref(env);
    Unref();
  }
}

Napi::Value GigeWrap::Send(const Napi::CallbackInfo& info, GigeCommand command, size_t callback_index) {
  Napi::Env env = info.Env();
  Napi::Function callback = CallbackArg(info, callback_index);
  if (closed_) ThrowError(env, code::kClosed, "the camera is closed");
  const uint64_t id = next_id_++;
  command.id = id;
  const GigeCommand::Kind kind = command.kind;
  if (!core_->Post(std::move(command))) ThrowError(env, code::kClosed, "the camera is closing");
  callbacks_.emplace(id, Napi::Persistent(callback));
  if (kind == GigeCommand::Kind::kOpen) open_id_ = id;
  if (kind == GigeCommand::Kind::kClose) {
    close_id_ = id;
    closed_ = true;
  }
  Hold(env);
  return env.Undefined();
}

// open(target: { serial? , userId?, address? }, callback)
Napi::Value GigeWrap::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowError(env, code::kInvalidInput, "open(target, callback) needs a target object");
  Napi::Object o = info[0].As<Napi::Object>();
  GigeCommand command{GigeCommand::Kind::kOpen};
  if (auto v = OptString(env, o, "serial")) command.target = {GigeTarget::By::kSerial, *v};
  else if (auto u = OptString(env, o, "userId")) command.target = {GigeTarget::By::kUserId, *u};
  else if (auto a = OptString(env, o, "address")) command.target = {GigeTarget::By::kAddress, *a};
  return Send(info, std::move(command), 1);
}

Napi::Value GigeWrap::Configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) ThrowError(env, code::kInvalidInput, "configure(features, callback) needs an object");
  GigeCommand command{GigeCommand::Kind::kConfigure};
  command.features = ParseFeatures(env, info[0].As<Napi::Object>());
  return Send(info, std::move(command), 1);
}

// start(pool, buffers, callback)
Napi::Value GigeWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() ||
      !info[0].As<Napi::Object>().InstanceOf(GetAddonData(env).pool_constructor.Value())) {
    ThrowError(env, code::kInvalidInput, "start(pool, buffers, callback) needs a native FramePool");
  }
  Napi::Object pool = info[0].As<Napi::Object>();
  PoolWrap* pool_wrap = PoolWrap::Unwrap(pool);
  if (pool_wrap->core()->closed()) ThrowError(env, code::kPoolClosed, "the frame pool is closed");
  GigeCommand command{GigeCommand::Kind::kStart};
  const double buffers = NumberArg(info, 1, "buffers");
  if (buffers < 2 || buffers > 64) ThrowError(env, code::kInvalidInput, "buffers must be 2..64");
  command.buffers = static_cast<uint32_t>(buffers);
  command.pool = pool_wrap->core();
  // Holds the JS pool while this camera may write to it (until close).
  pool_object_ = Napi::Persistent(pool);
  return Send(info, std::move(command), 2);
}

Napi::Value GigeWrap::Stop(const Napi::CallbackInfo& info) {
  return Send(info, GigeCommand{GigeCommand::Kind::kStop}, 0);
}

Napi::Value GigeWrap::SoftwareTrigger(const Napi::CallbackInfo& info) {
  return Send(info, GigeCommand{GigeCommand::Kind::kTrigger}, 0);
}

Napi::Value GigeWrap::Close(const Napi::CallbackInfo& info) {
  if (closed_) {
    // Idempotent: a later close answers at once (synchronously; the TS layer defers it).
    Napi::Function callback = CallbackArg(info, 0);
    Napi::Env env = info.Env();
    CallSafely(env, callback, {env.Null()});
    return env.Undefined();
  }
  return Send(info, GigeCommand{GigeCommand::Kind::kClose}, 0);
}

Napi::Value GigeWrap::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const GigeCounters c = core_->Counters();
  Napi::Object out = Napi::Object::New(env);
  auto set = [&](const char* name, uint64_t v) { out.Set(name, Napi::Number::New(env, static_cast<double>(v))); };
  set("completed", c.completed);
  set("incomplete", c.incomplete);
  set("timedOut", c.timed_out);
  set("nonMonotonic", c.non_monotonic);
  set("underruns", c.underruns);
  set("skippedIds", c.skipped_ids);
  set("aborted", c.aborted);
  set("streamCompleted", c.stream_completed);
  set("streamFailures", c.stream_failures);
  set("streamUnderruns", c.stream_underruns);
  set("missingPackets", c.missing_packets);
  set("resentPackets", c.resent_packets);
  out.Set("acquiring", Napi::Boolean::New(env, c.acquiring));
  out.Set("open", Napi::Boolean::New(env, c.open));
  return out;
}

void GigeWrap::Deliver(Napi::Env env, std::unique_ptr<GigeEvent> event) {
  Napi::HandleScope scope(env);
  if (event->kind == GigeEvent::Kind::kFrame || event->kind == GigeEvent::Kind::kLost) {
    if (on_event_.IsEmpty()) return;
    Napi::Object out = Napi::Object::New(env);
    if (event->kind == GigeEvent::Kind::kLost) {
      out.Set("type", "lost");
      out.Set("message", event->error_message);
    } else {
      out.Set("type", "frame");
      out.Set("slot", Napi::Number::New(env, event->slot));
      out.Set("generation", Napi::Number::New(env, static_cast<double>(event->generation)));
      out.Set("frameId", Napi::Number::New(env, static_cast<double>(event->frame_id)));
      out.Set("timestampNs", Napi::Number::New(env, static_cast<double>(event->timestamp_ns)));
      out.Set("systemTimestampNs", Napi::Number::New(env, static_cast<double>(event->system_timestamp_ns)));
      out.Set("width", Napi::Number::New(env, event->width));
      out.Set("height", Napi::Number::New(env, event->height));
      out.Set("bytesPerPixel", Napi::Number::New(env, event->bytes_per_pixel));
      out.Set("pixelFormat", Napi::Number::New(env, event->pixel_format));
    }
    CallSafely(env, on_event_.Value(), {out});
    return;
  }
  auto it = callbacks_.find(event->id);
  if (it == callbacks_.end()) return;
  Napi::FunctionReference callback = std::move(it->second);
  callbacks_.erase(it);
  const bool ok = event->error_code.empty();
  if (event->id == open_id_ && ok && !closed_) {
    open_ = true;
    Hold(env);
  }
  if (event->id == close_id_) {
    core_->Join();  // the thread answered close and is exiting
    if (open_) {
      open_ = false;
      Let(env);
    }
    pool_object_.Reset();
    on_event_.Reset();
  }
  Let(env);
  if (event->id == close_id_ && ChannelOpen()) {
    released_ = true;
    events_.Release();
  }
  Napi::Value error = ok ? env.Null() : MakeError(env, event->error_code, event->error_message).Value();
  CallSafely(env, callback.Value(), {error, FieldsToJs(env, event->fields)});
}

namespace {

class DiscoverWorker : public Napi::AsyncWorker {
 public:
  explicit DiscoverWorker(Napi::Function callback) : Napi::AsyncWorker(callback, "bottle-inspection-discover") {}
  void Execute() override {
    try {
      devices_ = ListDevices(true);
    } catch (const std::exception& e) {
      SetError(std::string("discovery failed: ") + e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array list = Napi::Array::New(env, devices_.size());
    for (size_t i = 0; i < devices_.size(); ++i) {
      const GigeDeviceInfo& d = devices_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", d.id);
      o.Set("vendor", d.vendor);
      o.Set("model", d.model);
      o.Set("serial", d.serial);
      o.Set("userId", d.user_id);
      o.Set("address", d.address);
      o.Set("physicalId", d.physical_id);
      o.Set("protocol", d.protocol);
      list.Set(static_cast<uint32_t>(i), o);
    }
    Callback().Call({env.Null(), list});
  }
  void OnError(const Napi::Error& error) override {
    Callback().Call({MakeError(Env(), gige_code::kCameraError, error.Message()).Value()});
  }

 private:
  std::vector<GigeDeviceInfo> devices_;
};

}  // namespace

Napi::Value Discover(const Napi::CallbackInfo& info) {
  Napi::Function callback = CallbackArg(info, 0);
  (new DiscoverWorker(callback))->Queue();
  return info.Env().Undefined();
}

}  // namespace bottle
