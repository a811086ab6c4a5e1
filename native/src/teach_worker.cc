#include "teach_worker.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "kernels.h"
#include "pool_wrap.h"
#include "reference_wrap.h"

namespace bottle {

namespace {

struct OwnedImage {
  std::vector<uint8_t> pixels;
  int width = 0;
  int height = 0;
  int channels = 0;
};

// Execute() runs on a libuv worker and touches only images_, work_size_ and its own outputs;
// OnOK()/OnError() run on the main thread.
class TeachWorker : public Napi::AsyncWorker {
 public:
  TeachWorker(Napi::Function callback, std::vector<OwnedImage> images, int work_size)
      : Napi::AsyncWorker(callback, "bottle-inspection-teach"),
        images_(std::move(images)),
        work_size_(work_size) {}

  void Execute() override {
    try {
      std::vector<ImageView> views;
      views.reserve(images_.size());
      for (const OwnedImage& im : images_) {
        views.push_back({im.pixels.data(), im.width, im.height, im.channels});
      }
      model_ = TeachReference(views, work_size_);
    } catch (const NativeFailure& failure) {
      failure_code_ = failure.code();
      SetError(failure.what());
    } catch (const std::exception& e) {
      failure_code_ = code::kInternal;
      SetError(std::string("teaching failed: ") + e.what());
    }
    images_.clear();
    images_.shrink_to_fit();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Callback().Call({env.Null(), ReferenceWrap::Create(env, std::move(model_))});
  }

  void OnError(const Napi::Error& error) override {
    Napi::Env env = Env();
    Callback().Call({MakeError(env, failure_code_, error.Message()).Value()});
  }

 private:
  std::vector<OwnedImage> images_;
  int work_size_;
  std::shared_ptr<const ReferenceModel> model_;
  std::string failure_code_ = code::kInternal;
};

}  // namespace

Napi::Value Teach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsObject() || !info[2].IsFunction()) {
    ThrowError(env, code::kInvalidInput, "teach(images, options, callback) expects an array, "
                                         "an object and a function");
  }
  Napi::Array list = info[0].As<Napi::Array>();
  Napi::Value work_size_value = info[1].As<Napi::Object>().Get("workSize");
  if (!work_size_value.IsNumber()) {
    ThrowError(env, code::kInvalidInput, "options.workSize must be a number");
  }
  const double work_size = work_size_value.As<Napi::Number>().DoubleValue();
  if (!(work_size >= 16 && work_size <= 4096)) {
    ThrowError(env, code::kInvalidInput,
               "options.workSize must be 16..4096, got " + std::to_string(work_size));
  }
  if (list.Length() == 0) ThrowError(env, code::kInvalidInput, "no images to teach from");

  std::vector<OwnedImage> images(list.Length());
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const std::string where = "images[" + std::to_string(i) + "]";
    Napi::Value entry = list.Get(i);
    if (!entry.IsObject()) ThrowError(env, code::kInvalidInput, where + " must be an object");
    Napi::Object o = entry.As<Napi::Object>();
    Napi::Value pixels = o.Get("pixels");
    if (!pixels.IsTypedArray() ||
        pixels.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowError(env, code::kInvalidInput, where + ".pixels must be a Uint8Array or Buffer");
    }
    OwnedImage& im = images[i];
    for (auto [name, field] : {std::pair{"width", &im.width}, std::pair{"height", &im.height},
                               std::pair{"channels", &im.channels}}) {
      Napi::Value v = o.Get(name);
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 1 && d <= 65535 && d == static_cast<int>(d))) {
        ThrowError(env, code::kInvalidInput, where + "." + name + " must be a whole number ≥ 1");
      }
      *field = static_cast<int>(d);
    }
    if (im.channels != 1 && im.channels != 3) {
      ThrowError(env, code::kInvalidInput, where + ".channels must be 1 or 3");
    }
    auto bytes = pixels.As<Napi::Uint8Array>();
    const size_t expected = static_cast<size_t>(im.width) * im.height * im.channels;
    if (bytes.ByteLength() != expected) {
      ThrowError(env, code::kInvalidInput,
                 where + ".pixels hold " + std::to_string(bytes.ByteLength()) + " bytes, " +
                     std::to_string(expected) + " expected");
    }
    im.pixels.assign(bytes.Data(), bytes.Data() + expected);
  }

  auto* worker = new TeachWorker(info[2].As<Napi::Function>(), std::move(images),
                                 static_cast<int>(work_size));
  worker->Queue();
  return env.Undefined();
}

}  // namespace bottle
