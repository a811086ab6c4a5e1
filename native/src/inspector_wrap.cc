#include "inspector_wrap.h"

#include <cmath>
#include <string>

#include "addon.h"
#include "errors.h"
#include "pool_wrap.h"
#include "reference_wrap.h"

namespace bottle {

namespace {

double OptionNumber(Napi::Env env, const Napi::Object& options, const char* name) {
  Napi::Value v = options.Get(name);
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    ThrowError(env, code::kInvalidInput, std::string("options.") + name + " must be a number");
  }
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Object DefectToJs(Napi::Env env, const DefectBox& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("x", d.x);
  o.Set("y", d.y);
  o.Set("width", d.width);
  o.Set("height", d.height);
  o.Set("areaPx", d.area_px);
  o.Set("severity", d.severity);
  o.Set("confidence", d.confidence);
  return o;
}

}  // namespace

Napi::Function InspectorWrap::Define(Napi::Env env) {
  return DefineClass(env, "Inspector",
                     {
                         InstanceMethod<&InspectorWrap::Inspect>("inspect"),
                         InstanceMethod<&InspectorWrap::Counters>("counters"),
                         InstanceMethod<&InspectorWrap::Close>("close"),
                     });
}

// new Inspector(pool, threads, queueLimit)
InspectorWrap::InspectorWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<InspectorWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject() ||
      !info[0].As<Napi::Object>().InstanceOf(GetAddonData(env).pool_constructor.Value())) {
    ThrowError(env, code::kInvalidInput, "the first argument must be a native FramePool");
  }
  const double threads = NumberArg(info, 1, "threads");
  const double queue_limit = NumberArg(info, 2, "queueLimit");
  if (threads < 1 || threads > 64 || queue_limit < 1 || queue_limit > 1e6) {
    ThrowError(env, code::kInvalidInput, "threads must be 1..64 and queueLimit 1..1000000");
  }
  Napi::Object pool = info[0].As<Napi::Object>();
  PoolWrap* pool_wrap = PoolWrap::Unwrap(pool);
  if (pool_wrap->core()->closed()) ThrowError(env, code::kPoolClosed, "the frame pool is closed");
  pool_object_ = Napi::Persistent(pool);

  // The sink runs on worker threads: it only hands the result to the thread-safe function.
  // NonBlockingCall never blocks with an unlimited queue; it fails only once the function is
  // closing, and then the result is dropped here. `channel` is filled in before any job exists.
  auto channel = std::make_shared<ResultChannel>();
  core_ = std::make_shared<InspectorCore>(
      pool_wrap->core(), static_cast<int>(threads), static_cast<size_t>(queue_limit),
      [channel](std::unique_ptr<JobResult> result) {
        if (channel->NonBlockingCall(result.get()) == napi_ok) result.release();
      });
  auto* finalizer = new ChannelFinalizer{core_, results_finalized_};
  results_ = ResultChannel::New(env, "bottle-inspection-results", 0, 1, this, FinalizeChannel,
                                finalizer);
  *channel = results_;
  results_.Unref(env);
}

void InspectorWrap::FinalizeChannel(Napi::Env, ChannelFinalizer* finalizer, InspectorWrap*) {
  std::unique_ptr<ChannelFinalizer> owned(finalizer);
  owned->core->Close();
  *owned->finalized = true;
}

InspectorWrap::~InspectorWrap() {
  // Collected only when no job is pending (pending jobs keep a reference to this object).
  core_->Close();
  if (ChannelOpen()) {
    results_released_ = true;
    results_.Abort();
  }
}

void InspectorWrap::CallJs(Napi::Env env, Napi::Function, InspectorWrap* self,
                           JobResult* raw) {
  std::unique_ptr<JobResult> result(raw);
  // env is null when the environment is shutting down: only free the result.
  if (env == nullptr || self == nullptr) return;
  self->Deliver(env, std::move(result));
}

bool InspectorWrap::ChannelOpen() const { return !results_released_ && !*results_finalized_; }

void InspectorWrap::JobStarted(Napi::Env env) {
  if (callbacks_.size() == 1) {
    Ref();
    if (ChannelOpen()) results_.Ref(env);
  }
}

void InspectorWrap::JobEnded(Napi::Env env) {
  if (callbacks_.empty()) {
    if (ChannelOpen()) results_.Unref(env);
    Unref();
  }
}

// inspect(slot, generation, width, height, bytesPerPixel, reference, options, callback) → boolean
Napi::Value InspectorWrap::Inspect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) ThrowError(env, code::kClosed, "the inspector is closed");
  InspectJob job;
  job.slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  job.generation = static_cast<uint64_t>(NumberArg(info, 1, "generation"));
  job.width = static_cast<int>(std::min(NumberArg(info, 2, "width"), 1e9));
  job.height = static_cast<int>(std::min(NumberArg(info, 3, "height"), 1e9));
  job.channels = static_cast<int>(std::min(NumberArg(info, 4, "channels"), 1e9));
  if (info.Length() < 8 || !info[5].IsObject() ||
      !info[5].As<Napi::Object>().InstanceOf(GetAddonData(env).reference_constructor.Value())) {
    ThrowError(env, code::kInvalidInput, "reference must be a native reference");
  }
  if (!info[6].IsObject()) ThrowError(env, code::kInvalidInput, "options must be an object");
  if (!info[7].IsFunction()) ThrowError(env, code::kInvalidInput, "callback must be a function");
  job.reference = ReferenceWrap::Unwrap(info[5].As<Napi::Object>())->model();
  Napi::Object options = info[6].As<Napi::Object>();
  job.settings.threshold = OptionNumber(env, options, "threshold");
  job.settings.min_area_px = OptionNumber(env, options, "minAreaPx");
  job.settings.max_shift = OptionNumber(env, options, "maxShift");
  if (!(job.settings.threshold > 0) || job.settings.min_area_px < 0 ||
      job.settings.max_shift < 0 || job.settings.max_shift > 0.5) {
    ThrowError(env, code::kInvalidInput,
               "threshold must be > 0, minAreaPx ≥ 0 and maxShift 0..0.5");
  }
  // options.pixelFormat names the frame's raw layout; without it the frame is Mono8 or RGB8 as
  // its channels say (bytes per pixel and channels are then the same).
  Napi::Value format = options.Get("pixelFormat");
  if (format.IsString()) {
    const std::string name = format.As<Napi::String>().Utf8Value();
    if (!ParseRawFormat(name, &job.format)) {
      ThrowError(env, code::kInvalidInput, "options.pixelFormat " + name + " is not supported");
    }
  } else if (!format.IsUndefined()) {
    ThrowError(env, code::kInvalidInput, "options.pixelFormat must be a string");
  } else {
    job.format = job.channels == 1 ? RawFormat::kMono8 : RawFormat::kRgb8;
  }

  const uint64_t id = next_job_id_++;
  job.id = id;
  if (!core_->Submit(std::move(job))) return Napi::Boolean::New(env, false);
  // Results are delivered on this thread, so the callback is in place before any can arrive.
  callbacks_.emplace(id, Napi::Persistent(info[7].As<Napi::Function>()));
  JobStarted(env);
  return Napi::Boolean::New(env, true);
}

void InspectorWrap::Deliver(Napi::Env env, std::unique_ptr<JobResult> result) {
  auto it = callbacks_.find(result->id);
  if (it == callbacks_.end()) return;
  Napi::FunctionReference callback = std::move(it->second);
  callbacks_.erase(it);

  Napi::HandleScope scope(env);
  Napi::Value error = env.Null();
  Napi::Value value = env.Undefined();
  if (!result->error_code.empty()) {
    error = MakeError(env, result->error_code, result->error_message).Value();
  } else {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array defects = Napi::Array::New(env, result->outcome.defects.size());
    for (size_t i = 0; i < result->outcome.defects.size(); ++i) {
      defects.Set(static_cast<uint32_t>(i), DefectToJs(env, result->outcome.defects[i]));
    }
    out.Set("defects", defects);
    out.Set("score", result->outcome.score);
    out.Set("inspectMs", result->inspect_ms);
    value = out;
  }
  // Bookkeeping first: a callback that throws must not leave the inspector ref'ed.
  JobEnded(env);
  try {
    callback.Call(env.Global(), {error, value});
  } catch (const Napi::Error& e) {
    // An exception in a result callback is the caller's; report it as uncaught, as Node does for
    // any asynchronous callback.
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value InspectorWrap::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const InspectorCounters c = core_->Counters();
  Napi::Object out = Napi::Object::New(env);
  out.Set("queued", static_cast<double>(c.queued));
  out.Set("completed", static_cast<double>(c.completed));
  out.Set("failed", static_cast<double>(c.failed));
  out.Set("rejected", static_cast<double>(c.rejected));
  return out;
}

// Stops the threads after their running jobs; jobs still queued are answered with CLOSED,
// asynchronously like every other result.
void InspectorWrap::Close(const Napi::CallbackInfo& info) {
  if (closed_) return;
  closed_ = true;
  std::vector<InspectJob> leftover = core_->Close();
  for (const InspectJob& job : leftover) {
    auto result = std::make_unique<JobResult>();
    result->id = job.id;
    result->error_code = code::kClosed;
    result->error_message = "the inspector was closed before this frame was inspected";
    if (ChannelOpen() && results_.NonBlockingCall(result.get()) == napi_ok) result.release();
  }
  if (ChannelOpen()) {
    results_released_ = true;
    results_.Release();
  }
  pool_object_.Reset();
}

}  // namespace bottle
