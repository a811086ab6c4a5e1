import type { CameraPosition, FrameRef } from '../frames/frame-ref';
import type { FramePool } from '../frames/frame-pool';
import type { Bottle } from '../tracking/tracker';

/** Counters every camera source keeps, named for what they count. */
export interface CameraCounters {
  /** Triggers the camera was asked to serve. */
  triggers: number;
  /** Frames written to the pool and handed on. */
  frames: number;
  /** Triggers that produced no frame (pool full, image not ready, camera gone). */
  missed: number;
}

/**
 * Something that turns a trigger into a frame in the pool: a GigE camera, a replayed folder,
 * a simulated line. The line calls `capture` for each trigger; the source answers through
 * `onFrame` or `onMissed`, once per trigger.
 */
export interface CameraSource {
  readonly id: string;
  readonly position: CameraPosition;
  /** Largest frame the source will write, so the line can size its pool. */
  readonly maxFrameBytes: number;
  /** Resolves once the source can serve triggers (images decoded, camera opened). */
  ready(): Promise<void>;
  capture(bottle: Bottle, pool: FramePool): void;
  /** Called once the line's pool exists, for sources that stream into it on their own (GigE). */
  attach?(pool: FramePool): void;
  onFrame?: (frame: FrameRef) => void;
  onMissed?: (bottle: Bottle, reason: string) => void;
  counters(): CameraCounters;
  close(): Promise<void>;
}
