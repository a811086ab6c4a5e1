// JavaScript face of a taught ReferenceModel (NativeReference in lib/native/types.ts).
// Main thread only. The model itself is immutable and shared with inspection jobs.
#pragma once

#include <napi.h>

#include <memory>

#include "reference.h"

namespace bottle {

class ReferenceWrap : public Napi::ObjectWrap<ReferenceWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps a model in a new JS object; the only way JS obtains one.
  static Napi::Object Create(Napi::Env env, std::shared_ptr<const ReferenceModel> model);
  // deserializeReference(data) → NativeReference
  static Napi::Value Deserialize(const Napi::CallbackInfo& info);

  explicit ReferenceWrap(const Napi::CallbackInfo& info);
  const std::shared_ptr<const ReferenceModel>& model() const { return model_; }

 private:
  Napi::Value Width(const Napi::CallbackInfo& info);
  Napi::Value Height(const Napi::CallbackInfo& info);
  Napi::Value Channels(const Napi::CallbackInfo& info);
  Napi::Value ImageCount(const Napi::CallbackInfo& info);
  Napi::Value WorkWidth(const Napi::CallbackInfo& info);
  Napi::Value WorkHeight(const Napi::CallbackInfo& info);
  Napi::Value Serialize(const Napi::CallbackInfo& info);

  std::shared_ptr<const ReferenceModel> model_;
};

}  // namespace bottle
