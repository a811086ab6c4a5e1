// The frame pool: fixed slots allocated once, reused oldest first, never grown.
//
// Ownership and threads. FramePoolCore is plain C++ (no N-API) and is shared through
// std::shared_ptr by the JS wrapper (PoolWrap) and by every Inspector using it, so the memory
// outlives whichever of them goes first. Write() is called from the JS main thread; Pin() and
// Unpin() from inspection threads and the main thread. One mutex guards the slot bookkeeping
// (generation, pin count, size, writing flag); pixel bytes are copied outside the lock, which is
// safe because a slot being written is invisible to Pin() and a pinned slot is never chosen by
// Write().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace bottle {

// A view of one pinned slot. Valid until the matching Unpin(); the bytes must not be written.
struct PinnedFrame {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
  size_t bytes = 0;
};

enum class PinStatus { kPinned, kExpired, kClosed };

struct PoolCounters {
  uint64_t writes = 0;   // frames stored
  uint64_t dropped = 0;  // frames refused because every slot was pinned or being written
  uint32_t pinned = 0;   // slots pinned right now
};

struct SlotTicket {
  uint32_t slot;
  uint64_t generation;
};

class FramePoolCore {
 public:
  FramePoolCore(size_t slot_bytes, uint32_t slot_count);
  ~FramePoolCore();
  FramePoolCore(const FramePoolCore&) = delete;
  FramePoolCore& operator=(const FramePoolCore&) = delete;

  size_t slot_bytes() const { return slot_bytes_; }
  uint32_t slot_count() const { return slot_count_; }

  // Copies `width*height*channels` bytes into the oldest free slot, starting after the slot
  // written last. Returns nothing when every slot is pinned (counted as dropped). The caller
  // checks the length against slot_bytes() first. Throws NativeFailure(POOL_CLOSED).
  std::optional<SlotTicket> Write(const uint8_t* pixels, int width, int height, int channels);

  // Pins the slot if it still holds `generation`. The generation is checked under the same lock
  // that takes the pin, so a writer can never slip in between the check and the pin.
  PinStatus Pin(uint32_t slot, uint64_t generation, PinnedFrame* out);
  void Unpin(uint32_t slot);

  bool IsValid(uint32_t slot, uint64_t generation) const;
  uint64_t GenerationOf(uint32_t slot) const;
  PoolCounters Counters() const;

  // Marks the pool closed; the memory is freed now, or by the last Unpin() (or Write()) still
  // holding a slot.
  void Close();
  bool closed() const;

 private:
  struct Slot {
    uint64_t generation = 0;           // 0 = never written
    std::atomic<uint32_t> pins{0};     // inspections (or JS reads) holding the slot
    bool writing = false;              // a Write() is copying into it
    int width = 0;
    int height = 0;
    int channels = 0;
  };

  uint8_t* SlotData(uint32_t slot) const { return storage_ + static_cast<size_t>(slot) * stride_; }
  void FreeStorageLocked();

  const size_t slot_bytes_;
  const uint32_t slot_count_;
  size_t stride_;                      // slot_bytes_ rounded up to 64 bytes
  uint8_t* storage_ = nullptr;         // one aligned allocation for all slots
  std::unique_ptr<Slot[]> slots_;

  mutable std::mutex mutex_;
  uint32_t next_slot_ = 0;             // where the search for a free slot starts
  uint32_t pinned_slots_ = 0;
  uint32_t writers_ = 0;               // Write() calls copying right now
  uint64_t writes_ = 0;
  uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace bottle
