/**
 * A GigE Vision camera as a line's camera source. The native camera (native/src/gige_*) runs on
 * a thread of its own and writes frames straight into the line's pool; this class pairs frames
 * with bottles, watches that frames keep coming and reopens a camera that went away.
 *
 * Pairing: the line calls capture(bottle) at each trigger. With a software trigger the camera is
 * fired and the frame it yields belongs to that bottle; in continuous and hardware-trigger modes
 * the next frame that arrives after the trigger belongs to it. Bottles wait in trigger order; one
 * whose frame does not come within the frame timeout is missed (onMissed). A frame with no bottle
 * waiting is left in the pool to be reused and counted as unclaimed, never given to a later bottle.
 *
 * Watchdog: while acquiring continuously, no frame for max(2 × frame interval, 500 ms), or the
 * native camera reporting lost control, emits 'lost', closes the camera and reopens it with a
 * backoff (0.5 s doubling to 5 s) until it is back ('restored'). Events: 'lost' (reason),
 * 'restored', 'error' is never emitted.
 */
import { EventEmitter } from 'node:events';

import { bytesPerPixel, type CameraPosition, type FrameRef, type PixelFormat } from '../frames/frame-ref';
import type { FramePool } from '../frames/frame-pool';
import { loadNative } from '../native';
import type {
  NativeGigeAccepted, NativeGigeCamera, NativeGigeCounters, NativeGigeEvent, NativeGigeFeatures,
  NativeGigeFrameEvent,
} from '../native/types';
import type { Bottle } from '../tracking/tracker';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { errorMessage } from '../util/errors';
import type { CameraCounters, CameraSource } from './source';

export interface GigeCameraTarget { serial?: string; userId?: string; address?: string }

export interface GigeSourceOptions {
  id: string;
  position: CameraPosition;
  /** Which camera: by serial number, user id or IP address (the first one given). */
  camera: GigeCameraTarget;
  features?: NativeGigeFeatures;
  /** How long a bottle waits for its frame after the trigger. Default 250 ms. */
  frameTimeoutMs?: number;
  /** Reopen a camera that stops sending frames or answering. Default true. */
  watchdog?: boolean;
  /** Pool slots handed to the camera's stream. Default 4. */
  buffers?: number;
  /** When given, ready() also starts acquisition into it; else the first capture() (or attach) does. */
  pool?: FramePool;
}

/**
 * The frame reference a GigeSource hands on: a FrameRef plus the GigE Vision frame id. It stays
 * plain data, so it travels in messages like any FrameRef.
 */
export interface GigeFrameRef extends FrameRef {
  /**
   * The GVSP block id (ArvBuffer frame id) the camera gave the frame: counts up by one per frame
   * the camera sent (16 bit in GigE Vision 1.x, skipping 0), so gaps show frames lost on the
   * way. Optional for readers: only GigE frames carry it.
   */
  frameId?: number;
}

export interface GigeSourceCounters extends CameraCounters {
  completed: number; incomplete: number; timedOut: number; nonMonotonic: number; underruns: number;
  skippedFrames: number; missingPackets: number; resentPackets: number;
  /** Frames that arrived with no bottle waiting. */
  unclaimed: number;
  /** Times the watchdog declared the camera lost, and times it came back. */
  lost: number; restored: number;
  /** Frames per second over the last second; lost frames over all frames the camera sent. */
  fps: number; dropRate: number;
}

/** An Error with a code the native side or this class set (CAMERA_NOT_FOUND, INVALID_CONFIG, ...). */
export class GigeError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GigeError';
  }
}

/** GenICam PFNC codes of the formats a frame can be handed on in (as in aravis-0.8 arvenums.h). */
const PFNC_NAMES: Record<number, PixelFormat> = {
  0x01080001: 'Mono8',
  0x01100007: 'Mono16',
  0x01080008: 'BayerGR8',
  0x01080009: 'BayerRG8',
  0x0108000a: 'BayerGB8',
  0x0108000b: 'BayerBG8',
  0x02180014: 'RGB8',
};
const REOPEN_MIN_MS = 500;
const REOPEN_MAX_MS = 5000;
const WATCHDOG_MIN_MS = 500;

interface Waiter { bottle: Bottle; timer: TimerHandle }

function call<T>(fn: (cb: (err: (Error & { code?: string }) | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => {
    if (err) reject(new GigeError(err.code ?? 'CAMERA_ERROR', err.message, { cause: err }));
    else resolve(value);
  }));
}

function describeTarget(t: GigeCameraTarget): string {
  if (t.serial !== undefined) return `serial "${t.serial}"`;
  if (t.userId !== undefined) return `user id "${t.userId}"`;
  if (t.address !== undefined) return `address ${t.address}`;
  return 'any camera';
}

export class GigeSource extends EventEmitter implements CameraSource {
  readonly id: string;
  readonly position: CameraPosition;
  maxFrameBytes = 0;
  onFrame?: (frame: FrameRef) => void;
  onMissed?: (bottle: Bottle, reason: string) => void;
  /** What the camera accepted of the requested features, after ready(). */
  accepted: NativeGigeAccepted = {};

  private camera?: NativeGigeCamera;
  private pool?: FramePool;
  private acquiring = false;
  private closed = false;
  private isLost = false;
  private readonly waiting: Waiter[] = [];
  private sequence = 0;
  private lastFrameAtMs = 0;
  private readonly recent: number[] = [];
  private watchdogTimer?: TimerHandle;
  private reopenTimer?: TimerHandle;
  private reopenDelayMs = REOPEN_MIN_MS;
  private base: NativeGigeCounters | undefined;
  private readonly count = { triggers: 0, frames: 0, missed: 0, unclaimed: 0, lost: 0, restored: 0 };
  private readonly started: Promise<void>;

  constructor(private readonly opts: GigeSourceOptions, private readonly clock: Clock = systemClock) {
    super();
    this.id = opts.id;
    this.position = opts.position;
    this.pool = opts.pool;
    this.started = this.connect();
    this.started.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.started;
  }

  /** Start acquisition into the line's pool (capture() does it on first use). */
  attach(pool: FramePool): void {
    if (this.pool === pool && this.acquiring) return;
    this.pool = pool;
    if (this.camera && !this.acquiring && !this.isLost) void this.startAcquisition().catch((err) => this.declareLost(errorMessage(err)));
  }

  capture(bottle: Bottle, pool: FramePool): void {
    this.count.triggers++;
    if (this.pool !== pool || !this.acquiring) this.attach(pool);
    if (this.closed || this.isLost || !this.camera) {
      this.miss(bottle, this.closed ? 'camera closed' : `camera ${this.id} is not acquiring`);
      return;
    }
    const timeoutMs = this.opts.frameTimeoutMs ?? 250;
    const waiter: Waiter = {
      bottle,
      timer: this.clock.setTimeout(() => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        this.miss(bottle, `no frame from camera ${this.id} within ${timeoutMs} ms of the trigger`);
      }, timeoutMs),
    };
    this.waiting.push(waiter);
    if (this.accepted.triggerMode === 'software') {
      this.camera.softwareTrigger((err) => {
        if (err) this.failWaiter(waiter, `software trigger failed: ${err.message}`);
      });
    }
  }

  counters(): GigeSourceCounters {
    const n = this.nativeTotals();
    const lostFrames = n.incomplete + n.nonMonotonic + n.skippedIds;
    const now = this.clock.now();
    const fps = this.recent.filter((t) => now - t <= 1000).length;
    return {
      ...this.count,
      completed: n.completed, incomplete: n.incomplete, timedOut: n.timedOut, nonMonotonic: n.nonMonotonic,
      underruns: n.underruns + n.streamUnderruns, skippedFrames: n.skippedIds,
      missingPackets: n.missingPackets, resentPackets: n.resentPackets, fps,
      dropRate: n.completed + lostFrames > 0 ? lostFrames / (n.completed + lostFrames) : 0,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopTimers();
    for (const w of this.waiting.splice(0)) {
      this.clock.clearTimeout(w.timer);
      this.miss(w.bottle, 'camera closed');
    }
    await this.releaseCamera();
  }

  private async connect(): Promise<void> {
    const camera = new (loadNative().GigeCamera)((e) => this.onNative(camera, e));
    this.camera = camera;
    try {
      await call((cb) => camera.open(this.opts.camera, cb));
    } catch (err) {
      await this.releaseCamera();
      throw new GigeError((err as GigeError).code,
        `camera ${this.id} (${describeTarget(this.opts.camera)}) cannot be opened: ${errorMessage(err)}`, { cause: err });
    }
    try {
      this.accepted = await call((cb) => camera.configure(this.opts.features ?? {}, cb));
      this.maxFrameBytes = this.accepted.payloadBytes ?? 0;
      if (this.closed) return;
      if (this.pool) await this.startAcquisition();
    } catch (err) {
      await this.releaseCamera();
      throw err;
    }
  }

  private async startAcquisition(): Promise<void> {
    const camera = this.camera;
    const pool = this.pool;
    if (!camera || !pool || this.acquiring) return;
    this.acquiring = true;
    try {
      await call((cb) => camera.start(pool.native, this.opts.buffers ?? 4, cb));
    } catch (err) {
      this.acquiring = false;
      throw err;
    }
    this.lastFrameAtMs = this.clock.now();
    this.armWatchdog();
  }

  private onNative(camera: NativeGigeCamera, e: NativeGigeEvent): void {
    if (camera !== this.camera || this.closed) return;
    if (e.type === 'lost') {
      this.declareLost(e.message);
      return;
    }
    this.onNativeFrame(e);
  }

  private onNativeFrame(e: NativeGigeFrameEvent): void {
    const now = this.clock.now();
    this.lastFrameAtMs = now;
    this.recent.push(now);
    while (this.recent.length > 0 && now - (this.recent[0] as number) > 1000) this.recent.shift();
    const waiter = this.waiting.shift();
    if (!waiter) {
      this.count.unclaimed++;
      return;
    }
    this.clock.clearTimeout(waiter.timer);
    const format = PFNC_NAMES[e.pixelFormat];
    if (!format || !this.pool || e.bytesPerPixel !== bytesPerPixel(format)) {
      this.miss(waiter.bottle, `pixel format 0x${e.pixelFormat.toString(16)} cannot be handed on as a frame`);
      return;
    }
    this.count.frames++;
    const frame: GigeFrameRef = {
      line: this.pool.lineId, slot: e.slot, generation: e.generation, camera: this.id,
      position: this.position, bottleId: waiter.bottle.id, sequence: ++this.sequence,
      triggerTimeMs: waiter.bottle.triggerTimeMs, captureTimeMs: now,
      width: e.width, height: e.height, pixelFormat: format,
      source: this.opts.camera.serial ?? this.opts.camera.userId ?? this.opts.camera.address,
      frameId: e.frameId,
    };
    this.onFrame?.(frame);
  }

  private armWatchdog(): void {
    if (this.opts.watchdog === false || this.watchdogTimer !== undefined) return;
    const tick = (): void => {
      this.watchdogTimer = undefined;
      if (this.closed || !this.acquiring || this.isLost) return;
      if (this.accepted.triggerMode === 'continuous' || this.accepted.triggerMode === undefined) {
        const rate = this.accepted.frameRate ?? 0;
        const limit = Math.max(rate > 0 ? 2000 / rate : 0, WATCHDOG_MIN_MS);
        const silent = this.clock.now() - this.lastFrameAtMs;
        if (silent > limit) {
          this.declareLost(`no frame for ${Math.round(silent)} ms (limit ${Math.round(limit)} ms)`);
          return;
        }
      }
      this.watchdogTimer = this.clock.setTimeout(tick, 200);
    };
    this.watchdogTimer = this.clock.setTimeout(tick, 200);
  }

  private declareLost(reason: string): void {
    if (this.closed || this.isLost) return;
    this.isLost = true;
    this.count.lost++;
    this.emit('lost', reason);
    for (const w of this.waiting.splice(0)) {
      this.clock.clearTimeout(w.timer);
      this.miss(w.bottle, `camera ${this.id} lost: ${reason}`);
    }
    void this.releaseCamera().then(() => this.scheduleReopen());
  }

  private scheduleReopen(): void {
    if (this.closed || this.opts.watchdog === false) return;
    const delay = this.reopenDelayMs;
    this.reopenDelayMs = Math.min(REOPEN_MAX_MS, this.reopenDelayMs * 2);
    this.reopenTimer = this.clock.setTimeout(() => {
      this.reopenTimer = undefined;
      this.connect().then(() => {
        if (this.closed) return;
        this.isLost = false;
        this.reopenDelayMs = REOPEN_MIN_MS;
        this.count.restored++;
        this.emit('restored');
      }, () => this.scheduleReopen());
    }, delay);
  }

  private async releaseCamera(): Promise<void> {
    const camera = this.camera;
    this.camera = undefined;
    this.acquiring = false;
    if (!camera) return;
    try {
      await call((cb) => camera.close(cb));
    } finally {
      this.base = this.sum(this.base, camera.counters());
    }
  }

  private nativeTotals(): NativeGigeCounters {
    return this.sum(this.base, this.camera?.counters());
  }

  private sum(a: NativeGigeCounters | undefined, b: NativeGigeCounters | undefined): NativeGigeCounters {
    const zero: NativeGigeCounters = {
      completed: 0, incomplete: 0, timedOut: 0, nonMonotonic: 0, underruns: 0, skippedIds: 0, aborted: 0,
      streamCompleted: 0, streamFailures: 0, streamUnderruns: 0, missingPackets: 0, resentPackets: 0,
      acquiring: false, open: false,
    };
    const out = { ...zero };
    for (const c of [a, b]) {
      if (!c) continue;
      for (const k of Object.keys(zero) as (keyof NativeGigeCounters)[]) {
        if (typeof zero[k] === 'number') (out[k] as number) += c[k] as number;
      }
      out.acquiring ||= c.acquiring;
      out.open ||= c.open;
    }
    return out;
  }

  private failWaiter(waiter: Waiter, reason: string): void {
    const i = this.waiting.indexOf(waiter);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    this.clock.clearTimeout(waiter.timer);
    this.miss(waiter.bottle, reason);
  }

  private miss(bottle: Bottle, reason: string): void {
    this.count.missed++;
    this.onMissed?.(bottle, reason);
  }

  private stopTimers(): void {
    if (this.watchdogTimer !== undefined) this.clock.clearTimeout(this.watchdogTimer);
    if (this.reopenTimer !== undefined) this.clock.clearTimeout(this.reopenTimer);
    this.watchdogTimer = undefined;
    this.reopenTimer = undefined;
  }
}
