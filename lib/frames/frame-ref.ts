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

/**
 * Pixel layouts a pool slot can hold, named as GenICam PFNC names them. RGB8 is packed R,G,B;
 * Mono8 one byte a pixel; Mono16 two bytes a pixel, little-endian (as GigE Vision sends it);
 * Bayer*8 one byte a pixel of the raw sensor mosaic, named by its top-left 2x2 block read row by
 * row (BayerRG8 is R G / G B). The pool keeps frames as they came: Bayer is demosaicked and Mono16
 * brought to 8 bits on the inspection thread.
 */
export type PixelFormat = 'Mono8' | 'RGB8' | 'Mono16' | 'BayerRG8' | 'BayerGB8' | 'BayerGR8' | 'BayerBG8';

export const PIXEL_FORMATS: readonly PixelFormat[] = [
  'Mono8', 'RGB8', 'Mono16', 'BayerRG8', 'BayerGB8', 'BayerGR8', 'BayerBG8',
];

/** The formats a reference is taught in: every frame is compared with one of these. */
export type ReferenceFormat = 'Mono8' | 'RGB8';

export function isPixelFormat(value: unknown): value is PixelFormat {
  return PIXEL_FORMATS.includes(value as PixelFormat);
}

/** Bytes one pixel takes in a pool slot. */
export function bytesPerPixel(format: PixelFormat): number {
  switch (format) {
    case 'RGB8': return 3;
    case 'Mono16': return 2;
    default: return 1;
  }
}

/** True for formats that carry colour (RGB8 and the Bayer mosaics). */
export function isColour(format: PixelFormat): boolean {
  return format === 'RGB8' || format.startsWith('Bayer');
}

/** The reference format a frame is inspected against: RGB8 for colour, Mono8 for grey. */
export function referenceFormatOf(format: PixelFormat): ReferenceFormat {
  return isColour(format) ? 'RGB8' : 'Mono8';
}

/** Channels of the image the inspection works on: 3 for colour, 1 for grey (not bytes a pixel). */
export function channelsOf(format: PixelFormat): number {
  return isColour(format) ? 3 : 1;
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
    isPixelFormat(v.pixelFormat)
  );
}
