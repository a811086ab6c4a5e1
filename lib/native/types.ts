/**
 * The shape of the native addon (native/src), as TypeScript sees it. TypeScript validates every
 * argument before it crosses; the C++ side trusts what it is given.
 */

/** A pool of fixed slots allocated once. Slots are reused oldest first; pinned slots are skipped. */
export interface NativeFramePool {
  readonly slotCount: number;
  readonly slotBytes: number;
  /**
   * Copy pixels into the oldest slot not pinned by an inspection, bump its generation and return
   * where they went; null when every slot is pinned (the frame is dropped and counted).
   */
  write(pixels: Uint8Array, width: number, height: number, channels: number):
    { slot: number; generation: number } | null;
  /** A copy of the frame's pixels; throws an Error with code FRAME_EXPIRED if the slot was reused. */
  read(slot: number, generation: number): Buffer;
  isValid(slot: number, generation: number): boolean;
  counters(): { writes: number; dropped: number; pinned: number };
  /** Frees the slots; any later call throws with code POOL_CLOSED. */
  close(): void;
}

/** A reference taught from good images of one view. Opaque; serialisable for saving. */
export interface NativeReference {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly imageCount: number;
  serialize(): Buffer;
}

export interface TeachOptions {
  /** Longer side of the working image the model is built at, in pixels. */
  workSize: number;
}

export interface InspectOptions {
  /** Anomaly threshold in standard deviations of the taught reference. */
  threshold: number;
  /** Smallest blob reported, in full-frame pixels. */
  minAreaPx: number;
  /** Largest shift searched when aligning to the reference, as a fraction of the working width. */
  maxShift: number;
}

export interface NativeDefect {
  x: number; y: number; width: number; height: number;
  areaPx: number; severity: number; confidence: number;
}

export interface NativeInspectResult {
  defects: NativeDefect[];
  score: number;
  inspectMs: number;
}

/** Native inspection threads; results come back on the event loop through a thread-safe call. */
export interface NativeInspector {
  /**
   * Queue one frame. The slot is pinned while the job runs. Returns false (and never calls back)
   * when the queue is full. Errors passed to the callback carry a code: FRAME_EXPIRED,
   * SIZE_MISMATCH, CLOSED.
   */
  inspect(
    slot: number, generation: number, width: number, height: number, channels: number,
    reference: NativeReference, options: InspectOptions,
    callback: (err: (Error & { code?: string }) | null, result?: NativeInspectResult) => void,
  ): boolean;
  counters(): { queued: number; completed: number; failed: number; rejected: number };
  /** Stops the threads after the running jobs; queued jobs call back with code CLOSED. */
  close(): void;
}

export interface NativeAddon {
  FramePool: new (slotBytes: number, slotCount: number) => NativeFramePool;
  Inspector: new (pool: NativeFramePool, threads: number, queueLimit: number) => NativeInspector;
  /** Build a reference on a worker thread from decoded good images (all the same size). */
  teach(
    images: { pixels: Uint8Array; width: number; height: number; channels: number }[],
    options: TeachOptions,
    callback: (err: Error | null, reference?: NativeReference) => void,
  ): void;
  deserializeReference(data: Uint8Array): NativeReference;
}
