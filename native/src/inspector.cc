#include "inspector.h"

#include <chrono>

#include "failure.h"

namespace bottle {

namespace {

std::string SizeText(int width, int height, int channels) {
  return std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(channels);
}

// Holds a pin for the life of one job.
class SlotPin {
 public:
  SlotPin(FramePoolCore& pool, uint32_t slot) : pool_(pool), slot_(slot) {}
  ~SlotPin() { pool_.Unpin(slot_); }
  SlotPin(const SlotPin&) = delete;
  SlotPin& operator=(const SlotPin&) = delete;

 private:
  FramePoolCore& pool_;
  uint32_t slot_;
};

}  // namespace

InspectorCore::InspectorCore(std::shared_ptr<FramePoolCore> pool, int threads,
                             size_t queue_limit, ResultSink sink)
    : pool_(std::move(pool)), queue_limit_(queue_limit), sink_(std::move(sink)) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

InspectorCore::~InspectorCore() { Close(); }

bool InspectorCore::Submit(InspectJob job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    if (queue_.size() >= queue_limit_) {
      ++counters_.rejected;
      return false;
    }
    queue_.push_back(std::move(job));
    ++counters_.queued;
  }
  wake_.notify_one();
  return true;
}

std::vector<InspectJob> InspectorCore::Close() {
  std::vector<InspectJob> leftover;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (InspectJob& job : queue_) leftover.push_back(std::move(job));
    queue_.clear();
    counters_.failed += leftover.size();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  return leftover;
}

InspectorCounters InspectorCore::Counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

void InspectorCore::Run() {
  // OpenCV's own parallel loops are switched off for the whole addon (see addon.cc): each
  // inspection is one thread's work, and the pool already occupies the cores.
  for (;;) {
    InspectJob job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    std::unique_ptr<JobResult> result = Execute(job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (result->error_code.empty()) {
        ++counters_.completed;
      } else {
        ++counters_.failed;
      }
    }
    sink_(std::move(result));
  }
}

std::unique_ptr<JobResult> InspectorCore::Execute(const InspectJob& job) {
  auto result = std::make_unique<JobResult>();
  result->id = job.id;
  const auto started = std::chrono::steady_clock::now();

  PinnedFrame frame;
  const PinStatus status = pool_->Pin(job.slot, job.generation, &frame);
  if (status == PinStatus::kClosed) {
    result->error_code = code::kPoolClosed;
    result->error_message = "the frame pool is closed";
    return result;
  }
  if (status == PinStatus::kExpired) {
    result->error_code = code::kFrameExpired;
    result->error_message = "frame expired before inspection: slot " + std::to_string(job.slot) +
                            " holds generation " +
                            std::to_string(pool_->GenerationOf(job.slot)) +
                            ", the job was for generation " + std::to_string(job.generation);
    return result;
  }
  SlotPin pin(*pool_, job.slot);

  const ReferenceModel& ref = *job.reference;
  const char* format_name = RawFormatName(job.format);
  if (frame.channels != BytesPerPixel(job.format) || job.channels != frame.channels) {
    result->error_code = code::kSizeMismatch;
    result->error_message = "frame holds " + std::to_string(frame.channels) +
                            " bytes a pixel (announced " + std::to_string(job.channels) + "), " +
                            format_name + " has " + std::to_string(BytesPerPixel(job.format));
    return result;
  }
  const int channels = InspectedChannels(job.format);
  if (frame.width != job.width || frame.height != job.height ||
      frame.width != ref.width || frame.height != ref.height || channels != ref.channels) {
    result->error_code = code::kSizeMismatch;
    result->error_message = "frame is " + SizeText(frame.width, frame.height, channels) + " " +
                            format_name + " (announced " +
                            SizeText(job.width, job.height, channels) +
                            "), the reference was taught at " +
                            SizeText(ref.width, ref.height, ref.channels);
    return result;
  }

  try {
    // Bayer and Mono16 become RGB8 / Mono8 here, on the inspection thread; the pool keeps the
    // frame as it came.
    const cv::Mat image = ToInspectable(frame.data, frame.width, frame.height, job.format);
    const ImageView view{image.ptr<uint8_t>(), image.cols, image.rows, image.channels()};
    result->outcome = InspectImage(ref, view, job.settings);
  } catch (const NativeFailure& failure) {
    result->error_code = failure.code();
    result->error_message = failure.what();
  } catch (const std::exception& e) {
    result->error_code = code::kInternal;
    result->error_message = std::string("inspection failed: ") + e.what();
  }
  result->inspect_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count();
  return result;
}

}  // namespace bottle
