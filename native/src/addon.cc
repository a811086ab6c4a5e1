// Registers the native addon's exports (NativeAddon in lib/native/types.ts). Nothing else.
#include <napi.h>

#include <opencv2/core.hpp>

#include "addon.h"
#include "gige_wrap.h"
#include "inspector_wrap.h"
#include "pool_wrap.h"
#include "reference_wrap.h"
#include "teach_worker.h"

namespace bottle {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Parallelism comes from the inspector's own threads, one frame each; OpenCV's internal
  // thread pool would only compete with them for the same cores.
  cv::setNumThreads(1);

  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);

  Napi::Function pool = PoolWrap::Define(env);
  Napi::Function reference = ReferenceWrap::Define(env);
  Napi::Function inspector = InspectorWrap::Define(env);
  data->pool_constructor = Napi::Persistent(pool);
  data->reference_constructor = Napi::Persistent(reference);
  data->inspector_constructor = Napi::Persistent(inspector);

  exports.Set("FramePool", pool);
  exports.Set("Inspector", inspector);
  exports.Set("GigeCamera", GigeWrap::Define(env));
  exports.Set("discover", Napi::Function::New(env, Discover, "discover"));
  exports.Set("teach", Napi::Function::New(env, Teach, "teach"));
  exports.Set("deserializeReference",
              Napi::Function::New(env, ReferenceWrap::Deserialize, "deserializeReference"));
  return exports;
}

}  // namespace bottle

namespace {
Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return bottle::Init(env, exports); }
}  // namespace

NODE_API_MODULE(bottle_inspection, InitAddon)
