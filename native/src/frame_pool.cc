#include "frame_pool.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "failure.h"

namespace bottle {

namespace {
constexpr size_t kAlignment = 64;
}

FramePoolCore::FramePoolCore(size_t slot_bytes, uint32_t slot_count)
    : slot_bytes_(slot_bytes), slot_count_(slot_count) {
  stride_ = (slot_bytes + kAlignment - 1) / kAlignment * kAlignment;
  storage_ = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, stride_ * slot_count));
  if (storage_ == nullptr) throw std::bad_alloc();
  slots_ = std::make_unique<Slot[]>(slot_count);
}

FramePoolCore::~FramePoolCore() { std::free(storage_); }

std::optional<SlotTicket> FramePoolCore::Write(const uint8_t* pixels, int width, int height,
                                               int channels) {
  const size_t bytes = static_cast<size_t>(width) * height * channels;
  uint32_t chosen = slot_count_;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) throw NativeFailure(code::kPoolClosed, "the frame pool is closed");
    for (uint32_t i = 0; i < slot_count_; ++i) {
      const uint32_t candidate = (next_slot_ + i) % slot_count_;
      Slot& slot = slots_[candidate];
      if (FreeLocked(slot)) {
        chosen = candidate;
        break;
      }
    }
    if (chosen == slot_count_) {
      ++dropped_;
      return std::nullopt;
    }
    // Bumping the generation first makes every older reference invalid before a byte changes.
    Slot& slot = slots_[chosen];
    slot.writing = true;
    ++writers_;
    generation = ++slot.generation;
    next_slot_ = (chosen + 1) % slot_count_;
  }

  std::memcpy(SlotData(chosen), pixels, bytes);

  std::lock_guard<std::mutex> lock(mutex_);
  Slot& slot = slots_[chosen];
  slot.width = width;
  slot.height = height;
  slot.channels = channels;
  slot.writing = false;
  --writers_;
  ++writes_;
  if (closed_) {
    // Closed while copying (from another thread): the frame is lost with the pool.
    if (UnusedLocked()) FreeStorageLocked();
    throw NativeFailure(code::kPoolClosed, "the frame pool was closed while a frame was written");
  }
  return SlotTicket{chosen, generation};
}

PinStatus FramePoolCore::Pin(uint32_t slot_index, uint64_t generation, PinnedFrame* out) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return PinStatus::kClosed;
  if (slot_index >= slot_count_) return PinStatus::kExpired;
  Slot& slot = slots_[slot_index];
  if (slot.writing || slot.held || slot.generation != generation || generation == 0 ||
      slot.width == 0) {
    return PinStatus::kExpired;
  }
  if (slot.pins.fetch_add(1, std::memory_order_relaxed) == 0) ++pinned_slots_;
  out->data = SlotData(slot_index);
  out->width = slot.width;
  out->height = slot.height;
  out->channels = slot.channels;
  out->bytes = static_cast<size_t>(slot.width) * slot.height * slot.channels;
  return PinStatus::kPinned;
}

void FramePoolCore::Unpin(uint32_t slot_index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (slot_index >= slot_count_) return;
  Slot& slot = slots_[slot_index];
  if (slot.pins.load(std::memory_order_relaxed) == 0) return;
  if (slot.pins.fetch_sub(1, std::memory_order_relaxed) == 1) --pinned_slots_;
  if (closed_ && UnusedLocked()) FreeStorageLocked();
}

std::optional<ReservedSlot> FramePoolCore::Reserve() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return std::nullopt;
  for (uint32_t i = 0; i < slot_count_; ++i) {
    const uint32_t candidate = (next_slot_ + i) % slot_count_;
    Slot& slot = slots_[candidate];
    if (!FreeLocked(slot)) continue;
    slot.held = true;
    ++held_;
    const uint64_t generation = ++slot.generation;
    next_slot_ = (candidate + 1) % slot_count_;
    return ReservedSlot{candidate, generation, SlotData(candidate)};
  }
  ++dropped_;
  return std::nullopt;
}

bool FramePoolCore::Commit(uint32_t slot_index, int width, int height, int channels) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (slot_index >= slot_count_ || !slots_[slot_index].held) return false;
  Slot& slot = slots_[slot_index];
  slot.held = false;
  --held_;
  if (closed_) {
    if (UnusedLocked()) FreeStorageLocked();
    return false;
  }
  slot.width = width;
  slot.height = height;
  slot.channels = channels;
  ++writes_;
  return true;
}

void FramePoolCore::Release(uint32_t slot_index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (slot_index >= slot_count_ || !slots_[slot_index].held) return;
  Slot& slot = slots_[slot_index];
  slot.held = false;
  --held_;
  // The reservation bumped the generation; with no frame, nothing may read the old one either.
  slot.width = slot.height = slot.channels = 0;
  if (closed_ && UnusedLocked()) FreeStorageLocked();
}

uint32_t FramePoolCore::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

bool FramePoolCore::IsValid(uint32_t slot_index, uint64_t generation) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) throw NativeFailure(code::kPoolClosed, "the frame pool is closed");
  if (slot_index >= slot_count_ || generation == 0) return false;
  const Slot& slot = slots_[slot_index];
  return !slot.writing && !slot.held && slot.generation == generation;
}

uint64_t FramePoolCore::GenerationOf(uint32_t slot_index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slot_index < slot_count_ ? slots_[slot_index].generation : 0;
}

PoolCounters FramePoolCore::Counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return PoolCounters{writes_, dropped_, pinned_slots_, held_};
}

void FramePoolCore::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  if (UnusedLocked()) FreeStorageLocked();
}

bool FramePoolCore::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

void FramePoolCore::FreeStorageLocked() {
  std::free(storage_);
  storage_ = nullptr;
}

}  // namespace bottle
