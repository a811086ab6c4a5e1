// Inspection threads: a fixed set of std::threads (not libuv's pool) taking jobs from a bounded
// queue, pinning each job's frame in the pool for the time it runs.
//
// Plain C++, no N-API. Submit() and Close() are called from the JS main thread; Run() on the
// worker threads. Results leave through the ResultSink, called on a worker thread; the sink
// (InspectorWrap) forwards them to the main thread through a thread-safe function.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "demosaic.h"
#include "frame_pool.h"
#include "kernels.h"
#include "reference.h"

namespace bottle {

struct InspectJob {
  uint64_t id = 0;  // matches the JS callback kept on the main thread
  uint32_t slot = 0;
  uint64_t generation = 0;
  int width = 0;
  int height = 0;
  int channels = 0;  // bytes per pixel in the pool, as announced by the caller
  RawFormat format = RawFormat::kRgb8;  // converted to RGB8 / Mono8 on the inspection thread
  std::shared_ptr<const ReferenceModel> reference;
  InspectSettings settings;
};

// A finished job. error_code is empty on success.
struct JobResult {
  uint64_t id = 0;
  std::string error_code;
  std::string error_message;
  InspectOutcome outcome;
  double inspect_ms = 0;
};

struct InspectorCounters {
  uint64_t queued = 0;     // jobs accepted since start
  uint64_t completed = 0;  // jobs that produced a result
  uint64_t failed = 0;     // jobs that ended with an error (expired, size, closed, ...)
  uint64_t rejected = 0;   // jobs refused because the queue was full
};

class InspectorCore {
 public:
  using ResultSink = std::function<void(std::unique_ptr<JobResult>)>;

  InspectorCore(std::shared_ptr<FramePoolCore> pool, int threads, size_t queue_limit,
                ResultSink sink);
  ~InspectorCore();
  InspectorCore(const InspectorCore&) = delete;
  InspectorCore& operator=(const InspectorCore&) = delete;

  // False when the queue is full (counted as rejected) or the inspector is closed.
  bool Submit(InspectJob job);

  // Lets running jobs finish, joins the threads and returns the jobs that never started; they
  // are counted as failed. Safe to call twice.
  std::vector<InspectJob> Close();

  InspectorCounters Counters() const;

 private:
  void Run();
  std::unique_ptr<JobResult> Execute(const InspectJob& job);

  std::shared_ptr<FramePoolCore> pool_;
  const size_t queue_limit_;
  ResultSink sink_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<InspectJob> queue_;
  bool stopping_ = false;
  InspectorCounters counters_;
  std::vector<std::thread> threads_;
};

}  // namespace bottle
