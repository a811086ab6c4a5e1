/**
 * A reference to one frame held in a line's native frame pool.
 *
 * It is plain data, so Node-RED may clone it with the message that carries it. The pixels stay
 * in the pool; `slot` and `generation` find them again, and a slot reused since the reference was
 * made answers "frame expired" instead of handing back another bottle's pixels.
 */
export interface FrameRef {
  /** Id of the line (config node) whose pool holds the frame. */
  line: string;
  slot: number;
  generation: number;
  /** Camera id (node id or serial) and its mounting position on the line. */
  camera: string;
  position: CameraPosition;
  /** Bottle the frame belongs to: frames of one trigger share it. */
  bottleId: number;
  /** Per-camera frame counter. */
  sequence: number;
  /** Milliseconds on the line clock: when the photo-eye fired and when the frame was complete. */
  triggerTimeMs: number;
  captureTimeMs: number;
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  /** Where the pixels came from, for people reading results: a file name or a camera serial. */
  source?: string;
}

export type CameraPosition = 'top' | 'bottom' | 'left' | 'right';
export const CAMERA_POSITIONS: readonly CameraPosition[] = ['top', 'bottom', 'left', 'right'];

/** Pixel layouts a pool slot can hold. RGB8 is packed R,G,B; Mono8 one byte a pixel. */
export type PixelFormat = 'Mono8' | 'RGB8';

export function channelsOf(format: PixelFormat): number {
  return format === 'RGB8' ? 3 : 1;
}

/** True when `value` has the shape of a FrameRef; says nothing about whether it is still valid. */
export function isFrameRef(value: unknown): value is FrameRef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.line === 'string' &&
    typeof v.camera === 'string' &&
    CAMERA_POSITIONS.includes(v.position as CameraPosition) &&
    Number.isFinite(v.triggerTimeMs) &&
    Number.isInteger(v.slot) &&
    Number.isInteger(v.generation) &&
    Number.isInteger(v.bottleId) &&
    Number.isInteger(v.width) &&
    Number.isInteger(v.height) &&
    (v.pixelFormat === 'Mono8' || v.pixelFormat === 'RGB8')
  );
}
