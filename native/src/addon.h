// Per-environment data of the addon: the constructors other classes need to recognise or create
// their objects. Created in Init on the main thread and freed by N-API with the environment.
#pragma once

#include <napi.h>

namespace bottle {

struct AddonData {
  Napi::FunctionReference pool_constructor;
  Napi::FunctionReference reference_constructor;
  Napi::FunctionReference inspector_constructor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace bottle
