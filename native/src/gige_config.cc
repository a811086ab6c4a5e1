#include "gige_config.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>

#include "failure.h"
#include "gerror_holder.h"
#include "gige_discovery.h"

namespace bottle {

namespace {

using ErrorHolder = GErrorHolder;

[[noreturn]] void Invalid(const std::string& message) {
  throw NativeFailure(gige_code::kInvalidConfig, "invalid camera configuration: " + message);
}

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string JoinStrings(const char** list, guint n) {
  std::string out;
  for (guint i = 0; i < n; ++i) out += (i ? ", " : "") + std::string(list[i]);
  return out;
}

// The entries a camera offers for an enumeration feature.
std::vector<std::string> EnumEntries(ArvCamera* camera, const char* feature) {
  ErrorHolder e;
  guint n = 0;
  const char** list = arv_camera_dup_available_enumerations_as_strings(camera, feature, &n, e.out());
  std::vector<std::string> out;
  if (list != nullptr) {
    for (guint i = 0; i < n; ++i) out.emplace_back(list[i]);
    g_free(list);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

void CheckEnum(ArvCamera* camera, const char* feature, const char* what, const std::string& value) {
  const std::vector<std::string> entries = EnumEntries(camera, feature);
  for (const std::string& entry : entries) {
    if (entry == value) return;
  }
  Invalid(std::string(what) + " \"" + value + "\" is not supported: the camera's " + feature +
          " offers " + (entries.empty() ? "nothing" : Join(entries)));
}

void SetString(ArvCamera* camera, const char* feature, const std::string& value) {
  ErrorHolder e;
  arv_camera_set_string(camera, feature, value.c_str(), e.out());
  if (e.failed()) Invalid(std::string(feature) + " = " + value + " was refused: " + e.message());
}

void CheckInteger(ArvCamera* camera, const char* feature, const char* what, int64_t value) {
  ErrorHolder e;
  gint64 min = 0, max = 0;
  arv_camera_get_integer_bounds(camera, feature, &min, &max, e.out());
  if (e.failed()) Invalid(std::string(what) + ": the camera has no " + feature + " (" + e.message() + ")");
  gint64 inc = arv_camera_get_integer_increment(camera, feature, e.out());
  if (e.failed() || inc < 1) inc = 1;
  if (value < min || value > max || (value - min) % inc != 0) {
    Invalid(std::string(what) + " " + std::to_string(value) + " is not allowed: " + feature +
            " must be " + std::to_string(min) + ".." + std::to_string(max) + " in steps of " +
            std::to_string(inc));
  }
}

void SetInteger(ArvCamera* camera, const char* feature, const char* what, int64_t value) {
  CheckInteger(camera, feature, what, value);
  ErrorHolder e;
  arv_camera_set_integer(camera, feature, value, e.out());
  if (e.failed()) Invalid(std::string(what) + " " + std::to_string(value) + " was refused: " + e.message());
}

void CheckFloat(const char* what, double value, double min, double max) {
  const double slack = 1e-9 * std::max(1.0, std::fabs(max));
  if (!std::isfinite(value) || value < min - slack || value > max + slack) {
    Invalid(std::string(what) + " " + Num(value) + " is out of range: the camera allows " +
            Num(min) + ".." + Num(max));
  }
}

void ThrowIfFailed(const ErrorHolder& e, const std::string& what) {
  if (e.failed()) Invalid(what + " was refused: " + e.message());
}

void ApplyTrigger(ArvCamera* camera, const GigeFeatures& f) {
  const std::string& mode = *f.trigger_mode;
  ErrorHolder e;
  if (mode == "continuous") {
    arv_camera_clear_triggers(camera, e.out());
    ThrowIfFailed(e, "trigger mode continuous");
    return;
  }
  if (mode == "software") {
    CheckEnum(camera, "TriggerSource", "trigger source", "Software");
    arv_camera_set_trigger(camera, "Software", e.out());
    ThrowIfFailed(e, "trigger mode software");
    return;
  }
  if (mode != "hardware") {
    Invalid("trigger mode \"" + mode + "\" is unknown: use continuous, software or hardware");
  }
  const std::string line = f.trigger_line.value_or("Line0");
  CheckEnum(camera, "TriggerSource", "trigger line", line);
  const std::string edge = f.trigger_edge.value_or("rising");
  if (edge != "rising" && edge != "falling") {
    Invalid("trigger edge \"" + edge + "\" is unknown: use rising or falling");
  }
  const std::string activation = edge == "rising" ? "RisingEdge" : "FallingEdge";
  CheckEnum(camera, "TriggerActivation", "trigger edge", activation);
  arv_camera_set_trigger(camera, line.c_str(), e.out());
  ThrowIfFailed(e, "trigger on " + line);
  SetString(camera, "TriggerActivation", activation);
}

}  // namespace

int BytesPerPixel(uint32_t pixel_format) {
  const int bits = static_cast<int>(ARV_PIXEL_FORMAT_BIT_PER_PIXEL(pixel_format));
  return bits % 8 == 0 ? bits / 8 : 0;
}

int InterfaceMtu(ArvCamera* camera) {
  ArvDevice* device = arv_camera_get_device(camera);
  if (!ARV_IS_GV_DEVICE(device)) return 0;
  GSocketAddress* local = arv_gv_device_get_interface_address(ARV_GV_DEVICE(device));
  if (local == nullptr || !G_IS_INET_SOCKET_ADDRESS(local)) return 0;
  GInetAddress* inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local));
  char* wanted = g_inet_address_to_string(inet);
  int mtu = 0;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* it = list; it != nullptr && mtu == 0; it = it->ifa_next) {
      if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
      char text[INET_ADDRSTRLEN] = {0};
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, text, sizeof text);
      if (std::strcmp(text, wanted) != 0) continue;
      const int fd = socket(AF_INET, SOCK_DGRAM, 0);
      if (fd < 0) break;
      ifreq request{};
      std::strncpy(request.ifr_name, it->ifa_name, IFNAMSIZ - 1);
      if (ioctl(fd, SIOCGIFMTU, &request) == 0) mtu = request.ifr_mtu;
      close(fd);
    }
    freeifaddrs(list);
  }
  g_free(wanted);
  return mtu;
}

GigeFields ApplyFeatures(ArvCamera* camera, const GigeFeatures& f) {
  ErrorHolder e;
  if (f.pixel_format) {
    guint n = 0;
    const char** formats = arv_camera_dup_available_pixel_formats_as_strings(camera, &n, e.out());
    bool known = false;
    for (guint i = 0; formats != nullptr && i < n; ++i) known = known || *f.pixel_format == formats[i];
    const std::string offered = formats ? JoinStrings(formats, n) : "nothing";
    g_free(formats);
    if (!known) Invalid("pixel format \"" + *f.pixel_format + "\" is not supported: the camera offers " + offered);
    arv_camera_set_pixel_format_from_string(camera, f.pixel_format->c_str(), e.out());
    ThrowIfFailed(e, "pixel format " + *f.pixel_format);
  }
  // Shrink before moving: width and height first, then the offsets they leave room for.
  if (f.width) SetInteger(camera, "Width", "width", *f.width);
  if (f.height) SetInteger(camera, "Height", "height", *f.height);
  if (f.offset_x) SetInteger(camera, "OffsetX", "offsetX", *f.offset_x);
  if (f.offset_y) SetInteger(camera, "OffsetY", "offsetY", *f.offset_y);
  if (f.exposure_us) {
    double min = 0, max = 0;
    arv_camera_get_exposure_time_bounds(camera, &min, &max, e.out());
    ThrowIfFailed(e, "exposure (the camera reports no exposure time bounds)");
    CheckFloat("exposure (µs)", *f.exposure_us, min, max);
    arv_camera_set_exposure_time(camera, *f.exposure_us, e.out());
    ThrowIfFailed(e, "exposure " + Num(*f.exposure_us) + " µs");
  }
  if (f.gain) {
    double min = 0, max = 0;
    arv_camera_get_gain_bounds(camera, &min, &max, e.out());
    ThrowIfFailed(e, "gain (the camera reports no gain bounds)");
    CheckFloat("gain", *f.gain, min, max);
    arv_camera_set_gain(camera, *f.gain, e.out());
    ThrowIfFailed(e, "gain " + Num(*f.gain));
  }
  // Aravis's frame-rate setter turns the frame trigger off on many cameras: rate before trigger.
  if (f.frame_rate) {
    double min = 0, max = 0;
    arv_camera_get_frame_rate_bounds(camera, &min, &max, e.out());
    ThrowIfFailed(e, "frame rate (the camera reports no frame rate bounds)");
    CheckFloat("frame rate (fps)", *f.frame_rate, min, max);
    arv_camera_set_frame_rate(camera, *f.frame_rate, e.out());
    ThrowIfFailed(e, "frame rate " + Num(*f.frame_rate));
  }
  if (f.trigger_mode) ApplyTrigger(camera, f);
  if (f.packet_size) {
    const int mtu = InterfaceMtu(camera);
    if (mtu > 0 && *f.packet_size > mtu) {
      Invalid("packet size " + std::to_string(*f.packet_size) + " exceeds the MTU " +
              std::to_string(mtu) + " of the interface the camera is reached through");
    }
    CheckInteger(camera, "GevSCPSPacketSize", "packet size", *f.packet_size);
    arv_camera_gv_set_packet_size(camera, static_cast<gint>(*f.packet_size), e.out());
    ThrowIfFailed(e, "packet size " + std::to_string(*f.packet_size));
  }
  if (f.packet_delay_ns) {
    if (*f.packet_delay_ns < 0) Invalid("packet delay must be ≥ 0 ns");
    gint64 ticks_min = 0, ticks_max = 0;
    arv_camera_get_integer_bounds(camera, "GevSCPD", &ticks_min, &ticks_max, e.out());
    ThrowIfFailed(e, "packet delay (the camera has no GevSCPD)");
    const gint64 hz = arv_camera_get_integer(camera, "GevTimestampTickFrequency", nullptr);
    if (hz > 0) {
      const double max_ns = static_cast<double>(ticks_max) * 1e9 / static_cast<double>(hz);
      CheckFloat("packet delay (ns)", static_cast<double>(*f.packet_delay_ns), 0, max_ns);
    }
    arv_camera_gv_set_packet_delay(camera, *f.packet_delay_ns, e.out());
    ThrowIfFailed(e, "packet delay " + std::to_string(*f.packet_delay_ns) + " ns");
  }
  return ReadFeatures(camera);
}

GigeFields ReadFeatures(ArvCamera* camera) {
  GigeFields out;
  ErrorHolder e;
  auto add_number = [&](const char* name, double value) {
    if (!e.failed()) out.push_back({name, value});
  };
  const char* format = arv_camera_get_pixel_format_as_string(camera, e.out());
  if (!e.failed() && format != nullptr) out.push_back({"pixelFormat", std::string(format)});
  gint x = 0, y = 0, w = 0, h = 0;
  arv_camera_get_region(camera, &x, &y, &w, &h, e.out());
  if (!e.failed()) {
    out.push_back({"width", static_cast<double>(w)});
    out.push_back({"height", static_cast<double>(h)});
    out.push_back({"offsetX", static_cast<double>(x)});
    out.push_back({"offsetY", static_cast<double>(y)});
  }
  double v = arv_camera_get_exposure_time(camera, e.out());
  add_number("exposureUs", v);
  v = arv_camera_get_gain(camera, e.out());
  add_number("gain", v);
  v = arv_camera_get_frame_rate(camera, e.out());
  add_number("frameRate", v);
  // The frame trigger: Off is free running; On with Software or a line is a triggered mode.
  if (arv_camera_is_feature_available(camera, "TriggerSelector", nullptr)) {
    arv_camera_set_string(camera, "TriggerSelector", "FrameStart", nullptr);
  }
  const char* mode = arv_camera_get_string(camera, "TriggerMode", e.out());
  if (!e.failed() && mode != nullptr) {
    const std::string on = mode;
    const char* source = arv_camera_get_string(camera, "TriggerSource", nullptr);
    const std::string src = source ? source : "";
    if (on == "Off") {
      out.push_back({"triggerMode", std::string("continuous")});
    } else if (src == "Software") {
      out.push_back({"triggerMode", std::string("software")});
    } else {
      out.push_back({"triggerMode", std::string("hardware")});
      out.push_back({"triggerLine", src});
      const char* act = arv_camera_get_string(camera, "TriggerActivation", nullptr);
      const std::string a = act ? act : "";
      out.push_back({"triggerEdge", std::string(a == "FallingEdge" ? "falling" : "rising")});
    }
  }
  if (arv_camera_is_gv_device(camera)) {
    v = arv_camera_gv_get_packet_size(camera, e.out());
    add_number("packetSize", v);
    v = static_cast<double>(arv_camera_gv_get_packet_delay(camera, e.out()));
    add_number("packetDelayNs", v);
  }
  v = arv_camera_get_payload(camera, e.out());
  add_number("payloadBytes", v);
  return out;
}

GigeFields DescribeCamera(ArvCamera* camera) {
  GigeFields out;
  auto text = [](const char* s) { return std::string(s ? s : ""); };
  out.push_back({"vendor", text(arv_camera_get_vendor_name(camera, nullptr))});
  out.push_back({"model", text(arv_camera_get_model_name(camera, nullptr))});
  out.push_back({"serial", text(arv_camera_get_device_serial_number(camera, nullptr))});
  out.push_back({"id", text(arv_camera_get_device_id(camera, nullptr))});
  ArvDevice* device = arv_camera_get_device(camera);
  out.push_back({"userId", ReadUserId(device)});
  if (ARV_IS_GV_DEVICE(device)) {
    GSocketAddress* remote = arv_gv_device_get_device_address(ARV_GV_DEVICE(device));
    if (remote != nullptr && G_IS_INET_SOCKET_ADDRESS(remote)) {
      char* s = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
      out.push_back({"address", std::string(s)});
      g_free(s);
    }
  }
  out.push_back({"mtu", static_cast<double>(InterfaceMtu(camera))});
  return out;
}

}  // namespace bottle
