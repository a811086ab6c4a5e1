#include "gige_camera.h"

#include <chrono>
#include <cstdint>
#include <string>

#include "failure.h"
#include "gerror_holder.h"
#include "gige_config.h"
#include "gige_discovery.h"

namespace bottle {

namespace {

// How long the camera thread waits for a frame before looking at its queue again.
constexpr guint64 kPopTimeoutUs = 5000;
// The kernel receive buffer Aravis asks for: a few frames at 2 MP, so bursts are not dropped.
constexpr gint kSocketBufferBytes = 16 << 20;
constexpr int64_t kStatsEveryMs = 100;

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Slot numbers ride in the buffer's user data, offset by one so that 0 means "none".
gpointer SlotCookie(uint32_t slot) { return reinterpret_cast<gpointer>(static_cast<uintptr_t>(slot) + 1); }
uint32_t SlotOf(ArvBuffer* buffer) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(arv_buffer_get_user_data(buffer)) - 1);
}

}  // namespace

GigeCameraCore::GigeCameraCore(Sink sink) : sink_(std::move(sink)) {
  thread_ = std::thread([this] { Run(); });
}

GigeCameraCore::~GigeCameraCore() { Shutdown(); }

bool GigeCameraCore::Post(GigeCommand command) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (closing_) return false;
    if (command.kind == GigeCommand::Kind::kClose) closing_ = true;
    queue_.push_back(std::move(command));
  }
  queue_cv_.notify_one();
  return true;
}

GigeCounters GigeCameraCore::Counters() const {
  std::lock_guard<std::mutex> lock(counters_mutex_);
  return counters_;
}

void GigeCameraCore::Shutdown() {
  sink_open_ = false;
  Post(GigeCommand{GigeCommand::Kind::kClose});
  Join();
}

void GigeCameraCore::Join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void GigeCameraCore::Emit(std::unique_ptr<GigeEvent> event) {
  if (sink_open_) sink_(std::move(event));
}

void GigeCameraCore::Reply(uint64_t id, GigeFields fields, std::string code, std::string message) {
  if (id == 0) return;
  auto event = std::make_unique<GigeEvent>();
  event->kind = GigeEvent::Kind::kReply;
  event->id = id;
  event->fields = std::move(fields);
  event->error_code = std::move(code);
  event->error_message = std::move(message);
  Emit(std::move(event));
}

void GigeCameraCore::Run() {
  for (;;) {
    GigeCommand command{GigeCommand::Kind::kTrigger};
    bool have = false;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      if (queue_.empty() && stream_ == nullptr) {
        queue_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return !queue_.empty(); });
      }
      if (!queue_.empty()) {
        command = std::move(queue_.front());
        queue_.pop_front();
        have = true;
      }
    }
    if (have) {
      const bool close = command.kind == GigeCommand::Kind::kClose;
      Handle(command);
      if (close) return;
      continue;
    }
    if (stream_ != nullptr) Poll();
  }
}

void GigeCameraCore::Handle(GigeCommand& command) {
  using Kind = GigeCommand::Kind;
  try {
    switch (command.kind) {
      case Kind::kOpen:
        if (camera_ != nullptr) throw NativeFailure(code::kInvalidInput, "the camera is already open");
        Open(command.target);
        Reply(command.id, DescribeCamera(camera_));
        return;
      case Kind::kConfigure: {
        if (camera_ == nullptr) throw NativeFailure(gige_code::kClosed, "the camera is not open");
        if (stream_ != nullptr) {
          throw NativeFailure(code::kInvalidInput, "stop acquisition before configuring the camera");
        }
        Reply(command.id, ApplyFeatures(camera_, command.features));
        return;
      }
      case Kind::kStart:
        if (camera_ == nullptr) throw NativeFailure(gige_code::kClosed, "the camera is not open");
        if (stream_ == nullptr) Start(std::move(command.pool), command.buffers);
        Reply(command.id, {{"payloadBytes", static_cast<double>(payload_)}});
        return;
      case Kind::kStop:
        StopAcquisition();
        Reply(command.id);
        return;
      case Kind::kTrigger: {
        if (camera_ == nullptr) throw NativeFailure(gige_code::kClosed, "the camera is not open");
        GErrorHolder e;
        arv_camera_software_trigger(camera_, e.out());
        if (e.error) throw NativeFailure(gige_code::kCameraError, std::string("software trigger failed: ") + e.error->message);
        Reply(command.id);
        return;
      }
      case Kind::kClose:
        CloseCamera();
        Reply(command.id);
        return;
    }
  } catch (const NativeFailure& failure) {
    if (command.kind == Kind::kOpen) CloseCamera();
    Reply(command.id, {}, failure.code(), failure.what());
  } catch (const std::exception& e) {
    Reply(command.id, {}, code::kInternal, e.what());
  }
}

void GigeCameraCore::Open(const GigeTarget& target) {
  const std::string address = ResolveTarget(target);
  GErrorHolder e;
  {
    // An address opens the device directly; the lock keeps Aravis's device list single-threaded.
    std::lock_guard<std::mutex> lock(ArvRegistryMutex());
    camera_ = arv_camera_new(address.c_str(), e.out());
  }
  if (camera_ == nullptr) {
    throw NativeFailure(gige_code::kNotFound, "cannot open the camera at " + address + ": " +
                                                  (e.error ? e.error->message : "no detail"));
  }
  if (!arv_camera_is_gv_device(camera_)) {
    throw NativeFailure(gige_code::kNotFound, address + " is not a GigE Vision camera");
  }
  lost_handler_ = g_signal_connect(arv_camera_get_device(camera_), "control-lost",
                                   G_CALLBACK(&GigeCameraCore::OnControlLost), this);
  lost_reported_ = false;
  std::lock_guard<std::mutex> lock(counters_mutex_);
  counters_.open = true;
}

// Runs on Aravis's heartbeat thread: only flags and forwards.
void GigeCameraCore::OnControlLost(ArvGvDevice*, gpointer self_pointer) {
  auto* self = static_cast<GigeCameraCore*>(self_pointer);
  if (self->lost_reported_.exchange(true)) return;
  auto event = std::make_unique<GigeEvent>();
  event->kind = GigeEvent::Kind::kLost;
  event->error_code = gige_code::kCameraError;
  event->error_message = "control of the camera was lost (it stopped answering)";
  self->Emit(std::move(event));
}

void GigeCameraCore::Start(std::shared_ptr<FramePoolCore> pool, uint32_t buffers) {
  pool_ = std::move(pool);
  if (!pool_ || pool_->closed()) throw NativeFailure(code::kPoolClosed, "the frame pool is closed");
  GErrorHolder e;
  arv_camera_set_acquisition_mode(camera_, ARV_ACQUISITION_MODE_CONTINUOUS, e.out());
  if (e.error) throw NativeFailure(gige_code::kCameraError, std::string("cannot set continuous acquisition: ") + e.error->message);
  payload_ = arv_camera_get_payload(camera_, e.out());
  if (e.error || payload_ == 0) throw NativeFailure(gige_code::kCameraError, "cannot read the payload size");
  if (payload_ > pool_->slot_bytes()) {
    throw NativeFailure(gige_code::kInvalidConfig,
                        "the camera's payload of " + std::to_string(payload_) +
                            " bytes does not fit a frame pool slot of " + std::to_string(pool_->slot_bytes()));
  }
  // On loopback Aravis's packet-socket path receives nothing: use plain sockets everywhere.
  arv_camera_gv_set_stream_options(camera_, ARV_GV_STREAM_OPTION_PACKET_SOCKET_DISABLED);
  stream_ = arv_camera_create_stream(camera_, nullptr, nullptr, e.out());
  if (stream_ == nullptr) {
    throw NativeFailure(gige_code::kCameraError, std::string("cannot create a stream: ") + (e.error ? e.error->message : "no detail"));
  }
  g_object_set(stream_, "socket-buffer", ARV_GV_STREAM_SOCKET_BUFFER_FIXED, "socket-buffer-size",
               kSocketBufferBytes, "packet-resend", ARV_GV_STREAM_PACKET_RESEND_NEVER, nullptr);
  wanted_buffers_ = std::max<uint32_t>(2, buffers);
  last_timestamp_ = 0;
  last_frame_id_ = 0;
  short_of_slots_ = false;
  for (uint32_t i = 0; i < wanted_buffers_; ++i) PushFreshBuffer();
  arv_camera_start_acquisition(camera_, e.out());
  if (e.error) {
    const std::string message = e.error->message;
    StopAcquisition();
    throw NativeFailure(gige_code::kCameraError, "cannot start acquisition: " + message);
  }
  std::lock_guard<std::mutex> lock(counters_mutex_);
  counters_.acquiring = true;
}

bool GigeCameraCore::PushFreshBuffer() {
  std::optional<ReservedSlot> slot = pool_->Reserve();
  if (!slot) {
    if (!short_of_slots_) ++own_.underruns;
    short_of_slots_ = true;
    return false;
  }
  short_of_slots_ = false;
  in_stream_[slot->slot] = slot->generation;
  // The stream takes the buffer object; the bytes stay the pool's (preallocated, never freed by it).
  arv_stream_push_buffer(stream_, arv_buffer_new_full(payload_, slot->data, SlotCookie(slot->slot), nullptr));
  return true;
}

void GigeCameraCore::Poll() {
  ArvBuffer* buffer = arv_stream_timeout_pop_buffer(stream_, kPopTimeoutUs);
  if (buffer != nullptr) {
    HandleBuffer(buffer);
    g_object_unref(buffer);
  }
  while (in_stream_.size() < wanted_buffers_ && PushFreshBuffer()) {
  }
  if (NowMs() - last_stats_ms_ >= kStatsEveryMs) RefreshStreamCounters();
}

void GigeCameraCore::HandleBuffer(ArvBuffer* buffer) {
  const uint32_t slot = SlotOf(buffer);
  auto it = in_stream_.find(slot);
  if (it == in_stream_.end()) return;  // not ours; nothing to give back
  const uint64_t generation = it->second;
  in_stream_.erase(it);

  const uint64_t frame_id = arv_buffer_get_frame_id(buffer);
  if (frame_id != 0 && last_frame_id_ != 0) {
    // GigE Vision 1.x block ids are 16 bit and skip 0; extended ids just count up.
    uint64_t gap = 0;
    if (frame_id > last_frame_id_) gap = frame_id - last_frame_id_ - 1;
    else if (last_frame_id_ <= 65535 && frame_id <= 65535) gap = (65535 - last_frame_id_) + (frame_id - 1);
    own_.skipped_ids += gap;
  }
  if (frame_id != 0) last_frame_id_ = frame_id;

  const ArvBufferStatus status = arv_buffer_get_status(buffer);
  if (status != ARV_BUFFER_STATUS_SUCCESS ||
      arv_buffer_get_payload_type(buffer) != ARV_BUFFER_PAYLOAD_TYPE_IMAGE) {
    ++own_.incomplete;
    if (status == ARV_BUFFER_STATUS_TIMEOUT) ++own_.timed_out;
    pool_->Release(slot);
    return;
  }
  const uint64_t timestamp = arv_buffer_get_timestamp(buffer);
  if (last_timestamp_ != 0 && timestamp <= last_timestamp_) {
    ++own_.non_monotonic;
    pool_->Release(slot);
    return;
  }
  last_timestamp_ = timestamp;
  const int width = arv_buffer_get_image_width(buffer);
  const int height = arv_buffer_get_image_height(buffer);
  const uint32_t format = static_cast<uint32_t>(arv_buffer_get_image_pixel_format(buffer));
  const int bpp = BytesPerPixel(format);
  const size_t bytes = static_cast<size_t>(width) * static_cast<size_t>(height) * bpp;
  if (width <= 0 || height <= 0 || bpp < 1 || bpp > 4 || bytes > payload_) {
    ++own_.incomplete;
    pool_->Release(slot);
    return;
  }
  if (!pool_->Commit(slot, width, height, bpp)) return;  // the pool was closed under us
  ++own_.completed;
  auto event = std::make_unique<GigeEvent>();
  event->kind = GigeEvent::Kind::kFrame;
  event->slot = slot;
  event->generation = generation;
  event->frame_id = frame_id;
  event->timestamp_ns = timestamp;
  event->system_timestamp_ns = arv_buffer_get_system_timestamp(buffer);
  event->width = width;
  event->height = height;
  event->bytes_per_pixel = bpp;
  event->pixel_format = format;
  Emit(std::move(event));
}

void GigeCameraCore::RefreshStreamCounters() {
  last_stats_ms_ = NowMs();
  GigeCounters snapshot = own_;
  if (stream_ != nullptr) {
    guint64 completed = 0, failures = 0, underruns = 0, resent = 0, missing = 0;
    arv_stream_get_statistics(stream_, &completed, &failures, &underruns);
    if (ARV_IS_GV_STREAM(stream_)) arv_gv_stream_get_statistics(ARV_GV_STREAM(stream_), &resent, &missing);
    snapshot.stream_completed = completed;
    snapshot.stream_failures = failures;
    snapshot.stream_underruns = underruns;
    snapshot.resent_packets = resent;
    snapshot.missing_packets = missing;
  } else {
    std::lock_guard<std::mutex> lock(counters_mutex_);
    snapshot.stream_completed = counters_.stream_completed;
    snapshot.stream_failures = counters_.stream_failures;
    snapshot.stream_underruns = counters_.stream_underruns;
    snapshot.resent_packets = counters_.resent_packets;
    snapshot.missing_packets = counters_.missing_packets;
  }
  snapshot.acquiring = stream_ != nullptr;
  snapshot.open = camera_ != nullptr;
  std::lock_guard<std::mutex> lock(counters_mutex_);
  counters_ = snapshot;
}

void GigeCameraCore::StopAcquisition() {
  if (stream_ == nullptr) return;
  if (camera_ != nullptr) arv_camera_stop_acquisition(camera_, nullptr);
  // Frames finished meanwhile go back unreported: acquisition is ending.
  while (ArvBuffer* buffer = arv_stream_try_pop_buffer(stream_)) {
    const uint32_t slot = SlotOf(buffer);
    if (in_stream_.erase(slot) != 0) {
      pool_->Release(slot);
      ++own_.aborted;
    }
    g_object_unref(buffer);
  }
  RefreshStreamCounters();
  // Dropping the last reference finalizes the stream: it joins Aravis's receive thread and frees
  // the buffer objects still queued, so no one writes into the slots below any more and they can
  // go back to the pool. Should Aravis still hold the stream, the slots stay held (never reused
  // while something could write into them) rather than risk a write into a reused slot.
  gpointer alive = stream_;
  g_object_add_weak_pointer(G_OBJECT(stream_), &alive);
  g_clear_object(&stream_);
  if (alive == nullptr) {
    for (const auto& [slot, generation] : in_stream_) {
      pool_->Release(slot);
      ++own_.aborted;
    }
  } else {
    g_object_remove_weak_pointer(G_OBJECT(alive), &alive);
  }
  in_stream_.clear();
  pool_.reset();
  RefreshStreamCounters();
}

void GigeCameraCore::CloseCamera() {
  StopAcquisition();
  if (camera_ != nullptr) {
    if (lost_handler_ != 0) g_signal_handler_disconnect(arv_camera_get_device(camera_), lost_handler_);
    lost_handler_ = 0;
    g_clear_object(&camera_);
  }
  RefreshStreamCounters();
}

}  // namespace bottle
