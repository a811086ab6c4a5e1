#include "gige_discovery.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "failure.h"
#include "gerror_holder.h"

namespace bottle {

using ErrorHolder = GErrorHolder;

std::mutex& ArvRegistryMutex() {
  static std::mutex mutex;
  return mutex;
}

// The GigE Vision user-defined name: DeviceUserID when the camera describes it, else the
// bootstrap register every GigE Vision device has (16 bytes at 0xE8).
std::string ReadUserId(ArvDevice* device) {
  ErrorHolder e;
  if (arv_device_is_feature_available(device, "DeviceUserID", nullptr)) {
    const char* id = arv_device_get_string_feature_value(device, "DeviceUserID", e.out());
    if (!e.failed() && id != nullptr) return id;
  }
  char name[17] = {0};
  if (ARV_IS_GV_DEVICE(device) && arv_device_read_memory(device, 0xE8, 16, name, e.out())) {
    return std::string(name, strnlen(name, 16));
  }
  return "";
}

std::vector<GigeDeviceInfo> ListDevices(bool read_user_ids) {
  std::lock_guard<std::mutex> lock(ArvRegistryMutex());
  arv_update_device_list();
  const unsigned n = arv_get_n_devices();
  std::vector<GigeDeviceInfo> out;
  auto text = [](const char* s) { return std::string(s ? s : ""); };
  for (unsigned i = 0; i < n; ++i) {
    GigeDeviceInfo d;
    d.id = text(arv_get_device_id(i));
    d.vendor = text(arv_get_device_vendor(i));
    d.model = text(arv_get_device_model(i));
    d.serial = text(arv_get_device_serial_nbr(i));
    d.address = text(arv_get_device_address(i));
    d.physical_id = text(arv_get_device_physical_id(i));
    d.protocol = text(arv_get_device_protocol(i));
    out.push_back(std::move(d));
  }
  if (read_user_ids) {
    for (GigeDeviceInfo& d : out) {
      if (d.protocol != "GigEVision" || d.address.empty()) continue;
      ErrorHolder e;
      ArvDevice* device = arv_open_device(d.address.c_str(), e.out());
      if (device == nullptr) continue;
      d.user_id = ReadUserId(device);
      g_object_unref(device);
    }
  }
  return out;
}

std::string ResolveTarget(const GigeTarget& target) {
  if (target.by == GigeTarget::By::kAddress) {
    in_addr parsed{};
    if (inet_pton(AF_INET, target.value.c_str(), &parsed) != 1) {
      throw NativeFailure(gige_code::kInvalidConfig,
                          "camera address \"" + target.value + "\" is not an IPv4 address");
    }
    return target.value;
  }
  const bool by_user = target.by == GigeTarget::By::kUserId;
  const std::vector<GigeDeviceInfo> devices = ListDevices(by_user);
  std::string seen;
  for (const GigeDeviceInfo& d : devices) {
    if (d.protocol != "GigEVision") continue;
    if (target.by == GigeTarget::By::kAny) return d.address;
    if ((by_user ? d.user_id : d.serial) == target.value) return d.address;
    seen += (seen.empty() ? "" : ", ") + (by_user ? "\"" + d.user_id + "\"" : d.serial) + " at " + d.address;
  }
  const char* what = by_user ? "user id" : target.by == GigeTarget::By::kAny ? "any" : "serial";
  throw NativeFailure(gige_code::kNotFound,
                      std::string("no GigE Vision camera found with ") + what + " \"" +
                          target.value + "\"; discovery found " +
                          (seen.empty() ? "no GigE Vision camera" : seen));
}

}  // namespace bottle
