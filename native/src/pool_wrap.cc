#include "pool_wrap.h"

#include <cmath>
#include <string>

#include "errors.h"

namespace bottle {

namespace {

// The pin held by a JS read(): released when the copy is made, even if allocation throws.
class PinGuard {
 public:
  PinGuard(FramePoolCore& pool, uint32_t slot) : pool_(pool), slot_(slot) {}
  ~PinGuard() { pool_.Unpin(slot_); }
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;

 private:
  FramePoolCore& pool_;
  uint32_t slot_;
};

std::string ExpiredMessage(uint32_t slot, uint64_t asked, uint64_t now) {
  return "frame expired: slot " + std::to_string(slot) + " holds generation " +
         std::to_string(now) + ", the reference is for generation " + std::to_string(asked);
}

}  // namespace

double NumberArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (index >= info.Length() || !info[index].IsNumber()) {
    ThrowError(info.Env(), code::kInvalidInput, std::string(what) + " must be a number");
  }
  const double v = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < 0 || v != std::floor(v) || v > 9007199254740991.0) {
    ThrowError(info.Env(), code::kInvalidInput,
               std::string(what) + " must be a whole number ≥ 0, got " + std::to_string(v));
  }
  return v;
}

Napi::Function PoolWrap::Define(Napi::Env env) {
  return DefineClass(env, "FramePool",
                     {
                         InstanceAccessor<&PoolWrap::SlotCount>("slotCount"),
                         InstanceAccessor<&PoolWrap::SlotBytes>("slotBytes"),
                         InstanceAccessor<&PoolWrap::HeldSlots>("heldSlots"),
                         InstanceMethod<&PoolWrap::Write>("write"),
                         InstanceMethod<&PoolWrap::Read>("read"),
                         InstanceMethod<&PoolWrap::IsValid>("isValid"),
                         InstanceMethod<&PoolWrap::Pin>("pin"),
                         InstanceMethod<&PoolWrap::Unpin>("unpin"),
                         InstanceMethod<&PoolWrap::Counters>("counters"),
                         InstanceMethod<&PoolWrap::Reserve>("reserve"),
                         InstanceMethod<&PoolWrap::Commit>("commit"),
                         InstanceMethod<&PoolWrap::Release>("release"),
                         InstanceMethod<&PoolWrap::Close>("close"),
                     });
}

PoolWrap::PoolWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PoolWrap>(info) {
  const double slot_bytes = NumberArg(info, 0, "slotBytes");
  const double slot_count = NumberArg(info, 1, "slotCount");
  if (slot_bytes < 1 || slot_count < 1 || slot_count > 65536) {
    ThrowError(info.Env(), code::kInvalidInput,
               "slotBytes must be ≥ 1 and slotCount 1..65536, got " +
                   std::to_string(slot_bytes) + " and " + std::to_string(slot_count));
  }
  try {
    core_ = std::make_shared<FramePoolCore>(static_cast<size_t>(slot_bytes),
                                            static_cast<uint32_t>(slot_count));
    js_pins_.assign(static_cast<size_t>(slot_count), 0);
  } catch (const std::bad_alloc&) {
    ThrowError(info.Env(), code::kInvalidInput,
               "cannot allocate " + std::to_string(slot_count) + " slots of " +
                   std::to_string(slot_bytes) + " bytes");
  }
}

void PoolWrap::ThrowIfClosed(Napi::Env env) const {
  if (core_->closed()) ThrowError(env, code::kPoolClosed, "the frame pool is closed");
}

Napi::Value PoolWrap::SlotCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_->slot_count());
}

// Slots reserved by external writers (cameras) right now; 0 once every camera gave them back.
Napi::Value PoolWrap::HeldSlots(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_->held());
}

Napi::Value PoolWrap::SlotBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(core_->slot_bytes()));
}

// write(pixels, width, height, channels) → { slot, generation } | null
Napi::Value PoolWrap::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfClosed(env);
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowError(env, code::kInvalidInput, "pixels must be a Uint8Array or Buffer");
  }
  auto pixels = info[0].As<Napi::Uint8Array>();
  const double width = NumberArg(info, 1, "width");
  const double height = NumberArg(info, 2, "height");
  const double channels = NumberArg(info, 3, "channels");
  if (width < 1 || height < 1 || channels < 1 || channels > 4) {
    ThrowError(env, code::kInvalidInput, "width and height must be ≥ 1 and channels 1..4");
  }
  const double expected = width * height * channels;
  if (static_cast<double>(pixels.ByteLength()) != expected) {
    ThrowError(env, code::kInvalidInput,
               "pixels hold " + std::to_string(pixels.ByteLength()) + " bytes, " +
                   std::to_string(static_cast<long long>(width)) + "x" +
                   std::to_string(static_cast<long long>(height)) + "x" +
                   std::to_string(static_cast<int>(channels)) + " needs " +
                   std::to_string(static_cast<long long>(expected)));
  }
  if (expected > static_cast<double>(core_->slot_bytes())) {
    ThrowError(env, code::kInvalidInput,
               "frame of " + std::to_string(static_cast<long long>(expected)) +
                   " bytes does not fit a slot of " + std::to_string(core_->slot_bytes()));
  }
  std::optional<SlotTicket> ticket;
  try {
    ticket = core_->Write(pixels.Data(), static_cast<int>(width), static_cast<int>(height),
                          static_cast<int>(channels));
  } catch (const NativeFailure& failure) {
    ThrowError(env, failure.code(), failure.what());
  }
  if (!ticket) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("slot", Napi::Number::New(env, ticket->slot));
  out.Set("generation", Napi::Number::New(env, static_cast<double>(ticket->generation)));
  return out;
}

// read(slot, generation) → Buffer (a copy)
Napi::Value PoolWrap::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfClosed(env);
  const auto slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  const auto generation = static_cast<uint64_t>(NumberArg(info, 1, "generation"));
  PinnedFrame frame;
  const PinStatus status = core_->Pin(slot, generation, &frame);
  if (status == PinStatus::kClosed) ThrowError(env, code::kPoolClosed, "the frame pool is closed");
  if (status == PinStatus::kExpired) {
    if (slot >= core_->slot_count()) {
      ThrowError(env, code::kFrameExpired,
                 "frame expired: slot " + std::to_string(slot) + " does not exist (pool has " +
                     std::to_string(core_->slot_count()) + " slots)");
    }
    ThrowError(env, code::kFrameExpired,
               ExpiredMessage(slot, generation, core_->GenerationOf(slot)));
  }
  PinGuard guard(*core_, slot);
  return Napi::Buffer<uint8_t>::Copy(env, frame.data, frame.bytes);
}

Napi::Value PoolWrap::IsValid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfClosed(env);
  const auto slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  const auto generation = static_cast<uint64_t>(NumberArg(info, 1, "generation"));
  return Napi::Boolean::New(env, core_->IsValid(slot, generation));
}

// pin(slot, generation) → boolean. Holds the slot against reuse until unpin(slot); for callers
// that must keep a frame a little longer (encoding a reject image) and for tests.
Napi::Value PoolWrap::Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfClosed(env);
  const auto slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  const auto generation = static_cast<uint64_t>(NumberArg(info, 1, "generation"));
  PinnedFrame frame;
  if (core_->Pin(slot, generation, &frame) != PinStatus::kPinned) {
    return Napi::Boolean::New(env, false);
  }
  ++js_pins_[slot];
  return Napi::Boolean::New(env, true);
}

// Releases one pin taken by pin(); pins held by inspections cannot be released from here.
void PoolWrap::Unpin(const Napi::CallbackInfo& info) {
  const auto slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  if (slot >= js_pins_.size() || js_pins_[slot] == 0) return;
  --js_pins_[slot];
  core_->Unpin(slot);
}

Napi::Value PoolWrap::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfClosed(env);
  const PoolCounters c = core_->Counters();
  Napi::Object out = Napi::Object::New(env);
  out.Set("writes", Napi::Number::New(env, static_cast<double>(c.writes)));
  out.Set("dropped", Napi::Number::New(env, static_cast<double>(c.dropped)));
  out.Set("pinned", Napi::Number::New(env, c.pinned));
  return out;
}

// reserve() → { slot, generation } | null. The external-writer path from JS, for tests: the slot's
// bytes keep whatever they held; cameras reserve natively.
Napi::Value PoolWrap::Reserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ThrowIfClosed(env);
  std::optional<ReservedSlot> reserved = core_->Reserve();
  if (!reserved) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("slot", Napi::Number::New(env, reserved->slot));
  out.Set("generation", Napi::Number::New(env, static_cast<double>(reserved->generation)));
  return out;
}

// commit(slot, width, height, channels) → boolean
Napi::Value PoolWrap::Commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  const double width = NumberArg(info, 1, "width");
  const double height = NumberArg(info, 2, "height");
  const double channels = NumberArg(info, 3, "channels");
  if (width < 1 || height < 1 || channels < 1 || channels > 4 ||
      width * height * channels > static_cast<double>(core_->slot_bytes())) {
    ThrowError(env, code::kInvalidInput,
               "commit needs width, height ≥ 1, channels 1..4 and a frame that fits the slot");
  }
  return Napi::Boolean::New(env, core_->Commit(slot, static_cast<int>(width),
                                               static_cast<int>(height), static_cast<int>(channels)));
}

void PoolWrap::Release(const Napi::CallbackInfo& info) {
  const auto slot = static_cast<uint32_t>(std::min(NumberArg(info, 0, "slot"), 4294967295.0));
  core_->Release(slot);
}

void PoolWrap::Close(const Napi::CallbackInfo& info) { core_->Close(); }

}  // namespace bottle
