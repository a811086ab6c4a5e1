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
  /** Slots reserved right now by external writers (cameras); 0 once all are given back. */
  readonly heldSlots: number;
  /**
   * External-writer path (cameras use it natively; exposed for tests): hold a free slot under a
   * new generation, then commit it as a frame or release it. Null when no slot is free.
   */
  reserve(): { slot: number; generation: number } | null;
  commit(slot: number, width: number, height: number, channels: number): boolean;
  release(slot: number): void;
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
  /**
   * The frame's raw layout (a PixelFormat name). Bayer*8 is demosaicked and Mono16 scaled by 1/256
   * on the inspection thread before the frame is compared with the (RGB8 / Mono8) reference.
   * Without it the frame is Mono8 or RGB8 as its bytes per pixel say.
   */
  pixelFormat?: string;
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
   * SIZE_MISMATCH (size, bytes per pixel or colour differ from the reference), CLOSED.
   * `bytesPerPixel` is what the pool holds per pixel (the write's `channels`).
   */
  inspect(
    slot: number, generation: number, width: number, height: number, bytesPerPixel: number,
    reference: NativeReference, options: InspectOptions,
    callback: (err: (Error & { code?: string }) | null, result?: NativeInspectResult) => void,
  ): boolean;
  counters(): { queued: number; completed: number; failed: number; rejected: number };
  /** Stops the threads after the running jobs; queued jobs call back with code CLOSED. */
  close(): void;
}

/** Camera features as the native GigE camera takes them; every one optional. */
export interface NativeGigeFeatures {
  pixelFormat?: string;
  width?: number; height?: number; offsetX?: number; offsetY?: number;
  exposureUs?: number;
  /** In the camera's gain unit: dB where it has Gain, raw steps where it only has GainRaw. */
  gain?: number;
  frameRate?: number;
  triggerMode?: 'continuous' | 'software' | 'hardware';
  /** Hardware trigger input, a TriggerSource entry such as Line0. */
  triggerLine?: string;
  triggerEdge?: 'rising' | 'falling';
  packetSize?: number;
  packetDelayNs?: number;
}

/** What the camera reports back after configure(): the features it is set to now. */
export type NativeGigeAccepted = Partial<Record<
  'width' | 'height' | 'offsetX' | 'offsetY' | 'exposureUs' | 'gain' | 'frameRate' | 'packetSize' |
  'packetDelayNs' | 'payloadBytes', number>> & {
  pixelFormat?: string; triggerMode?: string; triggerLine?: string; triggerEdge?: string;
};

export interface NativeGigeDevice {
  id: string; vendor: string; model: string; serial: string; userId: string;
  address: string; physicalId: string; protocol: string;
}

export interface NativeGigeFrameEvent {
  type: 'frame';
  slot: number; generation: number; frameId: number;
  /** Camera clock and host clock, ns (as doubles: exact below 2^53 ns, about 104 days). */
  timestampNs: number; systemTimestampNs: number;
  width: number; height: number; bytesPerPixel: number;
  /** PFNC pixel format code, e.g. 0x01080001 for Mono8. */
  pixelFormat: number;
}
export type NativeGigeEvent = NativeGigeFrameEvent | { type: 'lost'; message: string };

export interface NativeGigeCounters {
  completed: number; incomplete: number; timedOut: number; nonMonotonic: number;
  underruns: number; skippedIds: number; aborted: number;
  streamCompleted: number; streamFailures: number; streamUnderruns: number;
  missingPackets: number; resentPackets: number;
  acquiring: boolean; open: boolean;
}

type NativeCallback<T> = (err: (Error & { code?: string }) | null, result: T) => void;

/**
 * One GigE Vision camera on a native thread of its own. Every command answers through its
 * callback on the event loop; errors carry a code (INVALID_CONFIG, CAMERA_NOT_FOUND,
 * CAMERA_ERROR, CLOSED). Frames arrive as 'frame' events: the slot is committed in the pool.
 */
export interface NativeGigeCamera {
  open(target: { serial?: string; userId?: string; address?: string },
    callback: NativeCallback<Record<string, string | number>>): void;
  configure(features: NativeGigeFeatures, callback: NativeCallback<NativeGigeAccepted>): void;
  /** Starts acquisition into `pool`, with `buffers` of its slots handed to the stream (2..64). */
  start(pool: NativeFramePool, buffers: number, callback: NativeCallback<{ payloadBytes: number }>): void;
  stop(callback: NativeCallback<unknown>): void;
  softwareTrigger(callback: NativeCallback<unknown>): void;
  counters(): NativeGigeCounters;
  /** Stops, gives every slot back, releases the camera and joins its thread. Idempotent. */
  close(callback: NativeCallback<unknown>): void;
}

export interface NativeAddon {
  GigeCamera: new (onEvent: (event: NativeGigeEvent) => void) => NativeGigeCamera;
  /** Lists cameras on a worker thread (GigE Vision discovery broadcasts on every interface). */
  discover(callback: (err: Error | null, devices: NativeGigeDevice[]) => void): void;
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
