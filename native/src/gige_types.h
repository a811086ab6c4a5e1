// Plain data passed between the JS main thread and a GigE camera's own thread: requested
// features, commands, replies and events. No N-API and no Aravis here, so either side can include
// it. Every object is owned by exactly one thread at a time and handed over whole (moved through
// the command queue one way, through the thread-safe function the other way).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bottle {

class FramePoolCore;

namespace gige_code {
inline constexpr const char* kInvalidConfig = "INVALID_CONFIG";
inline constexpr const char* kNotFound = "CAMERA_NOT_FOUND";
inline constexpr const char* kCameraError = "CAMERA_ERROR";
inline constexpr const char* kClosed = "CLOSED";
}  // namespace gige_code

// What JS asked the camera to be. Every field is optional; absent ones are left as they are.
struct GigeFeatures {
  std::optional<std::string> pixel_format;  // Mono8, Mono16, BayerRG8, ..., RGB8
  std::optional<int64_t> width, height, offset_x, offset_y;
  std::optional<double> exposure_us, gain, frame_rate;
  std::optional<std::string> trigger_mode;  // continuous | software | hardware
  std::optional<std::string> trigger_line;  // hardware: TriggerSource entry, e.g. Line0
  std::optional<std::string> trigger_edge;  // hardware: rising | falling
  std::optional<int64_t> packet_size;       // bytes, at most the interface MTU
  std::optional<int64_t> packet_delay_ns;
};

// One named value of a reply (a number or a string).
struct GigeField {
  std::string name;
  std::variant<double, std::string> value;
};
using GigeFields = std::vector<GigeField>;

struct GigeDeviceInfo {
  std::string id, vendor, model, serial, user_id, address, physical_id, protocol;
};

// Who to open: by serial number, user id (DeviceUserID / GigE Vision user-defined name) or IP
// address; `any` opens the first camera found.
struct GigeTarget {
  enum class By { kSerial, kUserId, kAddress, kAny } by = By::kAny;
  std::string value;
};

struct GigeCommand {
  enum class Kind { kOpen, kConfigure, kStart, kStop, kTrigger, kClose };
  explicit GigeCommand(Kind k) : kind(k) {}
  Kind kind;
  uint64_t id = 0;  // 0: nobody waits for the reply
  GigeTarget target;
  GigeFeatures features;
  uint32_t buffers = 0;  // kStart: pool slots handed to the stream
  std::shared_ptr<FramePoolCore> pool;  // kStart: the pool whose slots the frames go to
};

// Counters of one camera: ours (from the frames we popped) and the stream's own.
struct GigeCounters {
  uint64_t completed = 0;      // good frames committed and reported
  uint64_t incomplete = 0;     // buffers with a status other than success
  uint64_t timed_out = 0;      // of which the status was a timeout
  uint64_t non_monotonic = 0;  // good buffers whose timestamp did not advance
  uint64_t underruns = 0;      // times no pool slot was free to give the stream
  uint64_t skipped_ids = 0;    // frame ids that never arrived as any buffer
  uint64_t aborted = 0;        // buffers given back unfilled when acquisition stopped
  uint64_t stream_completed = 0, stream_failures = 0, stream_underruns = 0;
  uint64_t missing_packets = 0, resent_packets = 0;
  bool acquiring = false;
  bool open = false;
};

// What comes back to JS. kReply answers a command id; kFrame is a committed slot; kLost says the
// camera stopped answering (control lost) on its own.
struct GigeEvent {
  enum class Kind { kReply, kFrame, kLost } kind = Kind::kReply;
  uint64_t id = 0;
  std::string error_code, error_message;
  GigeFields fields;    // kReply: what the command reports (open: device info; configure: accepted)
  // kFrame
  uint32_t slot = 0;
  uint64_t generation = 0, frame_id = 0, timestamp_ns = 0, system_timestamp_ns = 0;
  int width = 0, height = 0, bytes_per_pixel = 0;
  uint32_t pixel_format = 0;
};

}  // namespace bottle
