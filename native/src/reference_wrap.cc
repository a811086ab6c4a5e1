#include "reference_wrap.h"

#include "addon.h"
#include "errors.h"

namespace bottle {

namespace {
// Handed from Create() to the constructor through an External; never seen by JS code.
struct ModelHandoff {
  std::shared_ptr<const ReferenceModel> model;
};
}  // namespace

Napi::Function ReferenceWrap::Define(Napi::Env env) {
  return DefineClass(env, "Reference",
                     {
                         InstanceAccessor<&ReferenceWrap::Width>("width"),
                         InstanceAccessor<&ReferenceWrap::Height>("height"),
                         InstanceAccessor<&ReferenceWrap::Channels>("channels"),
                         InstanceAccessor<&ReferenceWrap::ImageCount>("imageCount"),
                         InstanceAccessor<&ReferenceWrap::WorkWidth>("workWidth"),
                         InstanceAccessor<&ReferenceWrap::WorkHeight>("workHeight"),
                         InstanceMethod<&ReferenceWrap::Serialize>("serialize"),
                     });
}

Napi::Object ReferenceWrap::Create(Napi::Env env, std::shared_ptr<const ReferenceModel> model) {
  ModelHandoff handoff{std::move(model)};
  Napi::External<ModelHandoff> external = Napi::External<ModelHandoff>::New(env, &handoff);
  return GetAddonData(env).reference_constructor.New({external});
}

ReferenceWrap::ReferenceWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<ReferenceWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    ThrowError(info.Env(), code::kInvalidInput,
               "references come from teach() or deserializeReference(), not from new");
  }
  model_ = std::move(info[0].As<Napi::External<ModelHandoff>>().Data()->model);
}

Napi::Value ReferenceWrap::Deserialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowError(env, code::kInvalidInput, "reference data must be a Uint8Array or Buffer");
  }
  auto data = info[0].As<Napi::Uint8Array>();
  try {
    return Create(env, DeserializeReference(data.Data(), data.ByteLength()));
  } catch (const NativeFailure& failure) {
    ThrowError(env, failure.code(), failure.what());
  } catch (const std::exception& e) {
    ThrowError(env, code::kInvalidInput, std::string("not a valid reference: ") + e.what());
  }
}

Napi::Value ReferenceWrap::Width(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), model_->width);
}
Napi::Value ReferenceWrap::Height(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), model_->height);
}
Napi::Value ReferenceWrap::Channels(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), model_->channels);
}
Napi::Value ReferenceWrap::ImageCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), model_->image_count);
}
Napi::Value ReferenceWrap::WorkWidth(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), model_->settings.work_width);
}
Napi::Value ReferenceWrap::WorkHeight(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), model_->settings.work_height);
}

Napi::Value ReferenceWrap::Serialize(const Napi::CallbackInfo& info) {
  const std::vector<uint8_t> bytes = SerializeReference(*model_);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
}

}  // namespace bottle
