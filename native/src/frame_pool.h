// The frame pool: fixed slots allocated once, reused oldest first, never grown.
//
// Ownership and threads. FramePoolCore is plain C++ (no N-API) and is shared through
// std::shared_ptr by the JS wrapper (PoolWrap) and by every Inspector using it, so the memory
// outlives whichever of them goes first. Write() is called from the JS main thread; Pin() and
// Unpin() from inspection threads and the main thread. One mutex guards the slot bookkeeping
// (generation, pin count, size, writing flag); pixel bytes are copied outside the lock, which is
// safe because a slot being written is invisible to Pin() and a pinned slot is never chosen by
// Write().
//
// External writers (GigE acquisition). Reserve() hands out a free slot's memory for another
// party to fill in place: it bumps the slot's generation at once (older references expire) and
// marks the slot held, so neither Write() nor another Reserve() chooses it and Pin() refuses it.
// The holder (a camera thread, which passes the memory to Aravis's receive thread) then either
// Commit()s it, which records the frame's size and makes it readable under that generation, or
// Release()s it, giving it back without a frame. Reserve/Commit/Release may be called from any
// thread. A held slot keeps the pool's memory alive after Close(), exactly as a pin does: the
// memory is freed only once no slot is pinned, written or held, so a receiver still writing into a
// slot can never write into freed memory. Commit() after Close() releases the hold and reports
// false.
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
  uint32_t held = 0;     // slots reserved by external writers right now
};

struct SlotTicket {
  uint32_t slot;
  uint64_t generation;
};

// A slot reserved for an external writer: its bytes (slot_bytes() of them) are the holder's
// until Commit() or Release().
struct ReservedSlot {
  uint32_t slot;
  uint64_t generation;
  uint8_t* data;
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

  // External writer path (see the header comment). Reserve() returns nothing when every slot is
  // pinned, written or held (counted as dropped) or the pool is closed.
  std::optional<ReservedSlot> Reserve();
  // Commit() and Release() ignore a slot that is not held. Commit() returns false when the pool
  // was closed meanwhile (the frame is gone with it) or the slot was not held.
  bool Commit(uint32_t slot, int width, int height, int channels);
  void Release(uint32_t slot);
  uint32_t held() const;

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
    bool held = false;                 // reserved by an external writer (Reserve)
    int width = 0;
    int height = 0;
    int channels = 0;
  };

  uint8_t* SlotData(uint32_t slot) const { return storage_ + static_cast<size_t>(slot) * stride_; }
  void FreeStorageLocked();
  bool UnusedLocked() const { return pinned_slots_ == 0 && writers_ == 0 && held_ == 0; }
  bool FreeLocked(const Slot& slot) const {
    return slot.pins.load(std::memory_order_relaxed) == 0 && !slot.writing && !slot.held;
  }

  const size_t slot_bytes_;
  const uint32_t slot_count_;
  size_t stride_;                      // slot_bytes_ rounded up to 64 bytes
  uint8_t* storage_ = nullptr;         // one aligned allocation for all slots
  std::unique_ptr<Slot[]> slots_;

  mutable std::mutex mutex_;
  uint32_t next_slot_ = 0;             // where the search for a free slot starts
  uint32_t pinned_slots_ = 0;
  uint32_t writers_ = 0;               // Write() calls copying right now
  uint32_t held_ = 0;                  // slots reserved by external writers
  uint64_t writes_ = 0;
  uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace bottle
