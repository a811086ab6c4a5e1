// One GigE Vision camera over Aravis, driven from a thread of its own.
//
// Threads and ownership.
// - The camera thread (started by the constructor, joined by Join()/the destructor) owns the
//   ArvCamera and ArvStream: it creates them, calls every Aravis function on them and unrefs them.
//   Aravis objects are not shared with any other thread of ours. (Aravis itself runs a receive
//   thread inside the stream and a heartbeat thread inside the device; those are Aravis's.)
// - The JS main thread only Post()s commands into a small queue (mutex + condition variable) and
//   reads Counters(), a snapshot the camera thread refreshes under a mutex.
// - Results travel back through `sink`, called on the camera thread (and, for a lost camera, on
//   Aravis's heartbeat thread); the sink hands each event to a thread-safe function. No N-API here.
// - Pool slots: the camera thread Reserve()s slots and gives their memory to Aravis as buffers
//   (arv_buffer_new_full, preallocated). A slot is written only by Aravis's receive thread while it
//   sits in the stream; the camera thread Commit()s it after popping a good buffer, or Release()s
//   it. Stopping stops the stream's thread before releasing the slots it still held, so no slot is
//   released while Aravis could still write into it. The pool core is shared (shared_ptr, given
//   with each start), so its memory outlives the acquisition.
#pragma once

#include <arv.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "frame_pool.h"
#include "gige_types.h"

namespace bottle {

class GigeCameraCore {
 public:
  using Sink = std::function<void(std::unique_ptr<GigeEvent>)>;

  explicit GigeCameraCore(Sink sink);
  ~GigeCameraCore();
  GigeCameraCore(const GigeCameraCore&) = delete;
  GigeCameraCore& operator=(const GigeCameraCore&) = delete;

  // Queues a command for the camera thread. False once the thread is closing.
  bool Post(GigeCommand command);
  GigeCounters Counters() const;

  // Stops sending events (the sink is going away), closes the camera and joins the thread.
  void Shutdown();
  // Joins a thread that has answered kClose (it is exiting). Main thread.
  void Join();

 private:
  void Run();
  void Handle(GigeCommand& command);
  void Reply(uint64_t id, GigeFields fields = {}, std::string code = "", std::string message = "");
  void Emit(std::unique_ptr<GigeEvent> event);

  void Open(const GigeTarget& target);
  void Start(std::shared_ptr<FramePoolCore> pool, uint32_t buffers);
  void StopAcquisition();
  void CloseCamera();
  void Poll();
  void HandleBuffer(ArvBuffer* buffer);
  bool PushFreshBuffer();
  void RefreshStreamCounters();
  static void OnControlLost(ArvGvDevice* device, gpointer self);

  const Sink sink_;
  std::atomic<bool> sink_open_{true};

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<GigeCommand> queue_;
  bool closing_ = false;  // a kClose was queued; guarded by queue_mutex_

  mutable std::mutex counters_mutex_;
  GigeCounters counters_;  // snapshot for Counters()

  // Camera thread only.
  ArvCamera* camera_ = nullptr;
  ArvStream* stream_ = nullptr;
  std::shared_ptr<FramePoolCore> pool_;  // while acquiring
  gulong lost_handler_ = 0;
  std::unordered_map<uint32_t, uint64_t> in_stream_;  // slot → generation, buffers Aravis holds
  uint32_t wanted_buffers_ = 0;
  size_t payload_ = 0;
  bool short_of_slots_ = false;  // an underrun was counted and not yet recovered
  uint64_t last_timestamp_ = 0;
  uint64_t last_frame_id_ = 0;
  int64_t last_stats_ms_ = 0;
  GigeCounters own_;  // our counters, copied into counters_ under the mutex

  std::atomic<bool> lost_reported_{false};
  std::thread thread_;
};

}  // namespace bottle
