/**
 * A line's frame pool: the native slots plus the line id that FrameRefs carry.
 *
 * Main thread only (like every JS object); the native pool underneath is shared with the
 * inspection threads, which pin a slot while they read it. Arguments are validated here before
 * they cross into C++.
 */
import { PIXEL_FORMATS, bytesPerPixel, isPixelFormat, type FrameRef } from './frame-ref';
import type { DecodedImage } from '../inspection/images';
import { loadNative } from '../native';
import type { NativeFramePool } from '../native/types';
import { InspectionError, errorCode, errorMessage } from '../util/errors';

/** What a caller says about a frame besides its pixels; the pool adds where it went. */
export type FrameMeta = Omit<FrameRef, 'line' | 'slot' | 'generation' | 'width' | 'height' | 'pixelFormat'>;

export interface FramePoolCounters {
  /** Frames stored. */
  writes: number;
  /** Frames refused because every slot was pinned by an inspection. */
  dropped: number;
  /** Slots pinned right now. */
  pinned: number;
}

const MAX_SLOT_BYTES = 256 * 1024 * 1024;
const MAX_SLOT_COUNT = 4096;

export class FramePool {
  readonly lineId: string;
  readonly slotBytes: number;
  readonly slotCount: number;
  private readonly pool: NativeFramePool;
  private closed = false;

  constructor(lineId: string, slotBytes: number, slotCount: number) {
    if (typeof lineId !== 'string' || lineId.length === 0) {
      throw new InspectionError('INVALID_CONFIG', 'frame pool line id must be a non-empty string');
    }
    if (!Number.isInteger(slotBytes) || slotBytes < 1 || slotBytes > MAX_SLOT_BYTES) {
      throw new InspectionError(
        'INVALID_CONFIG',
        `frame pool slot size must be a whole number of bytes 1..${MAX_SLOT_BYTES}, got ${slotBytes}`,
      );
    }
    if (!Number.isInteger(slotCount) || slotCount < 1 || slotCount > MAX_SLOT_COUNT) {
      throw new InspectionError(
        'INVALID_CONFIG',
        `frame pool slot count must be a whole number 1..${MAX_SLOT_COUNT}, got ${slotCount}`,
      );
    }
    this.lineId = lineId;
    this.slotBytes = slotBytes;
    this.slotCount = slotCount;
    this.pool = new (loadNative().FramePool)(slotBytes, slotCount);
  }

  /** The native pool, for the inspector that shares it. */
  get native(): NativeFramePool {
    this.assertOpen();
    return this.pool;
  }

  /**
   * Copies the image into the oldest free slot. Returns null when every slot is pinned: the frame
   * is dropped and counted, never queued.
   */
  put(image: DecodedImage, meta: FrameMeta): FrameRef | null {
    this.assertOpen();
    const { width, height, pixelFormat, pixels } = image;
    if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
      throw new InspectionError(
        'INVALID_INPUT', `image size must be whole numbers ≥ 1, got ${width}x${height}`);
    }
    if (!isPixelFormat(pixelFormat)) {
      throw new InspectionError(
        'INVALID_INPUT', `pixel format must be one of ${PIXEL_FORMATS.join(', ')}, got ${String(pixelFormat)}`);
    }
    const perPixel = bytesPerPixel(pixelFormat);
    const bytes = width * height * perPixel;
    if (!(pixels instanceof Uint8Array) || pixels.length !== bytes) {
      throw new InspectionError(
        'INVALID_INPUT',
        `${width}x${height} ${pixelFormat} (${perPixel} byte${perPixel > 1 ? 's' : ''} a pixel) needs ` +
          `${bytes} bytes of pixels, got ${pixels?.length}`,
      );
    }
    if (bytes > this.slotBytes) {
      throw new InspectionError(
        'INVALID_INPUT',
        `a ${width}x${height} ${pixelFormat} frame (${bytes} bytes) does not fit a slot of ` +
          `${this.slotBytes} bytes`,
      );
    }
    const where = this.pool.write(pixels, width, height, perPixel);
    if (!where) return null;
    const source = meta.source ?? image.source;
    return {
      ...meta,
      ...(source !== undefined ? { source } : {}),
      line: this.lineId,
      slot: where.slot,
      generation: where.generation,
      width,
      height,
      pixelFormat,
    };
  }

  /** A copy of the frame's pixels. Throws FRAME_EXPIRED if its slot has been reused. */
  read(ref: FrameRef): Buffer {
    this.assertOpen();
    this.assertOwnLine(ref);
    try {
      return this.pool.read(ref.slot, ref.generation);
    } catch (err) {
      if (errorCode(err) === 'FRAME_EXPIRED') {
        throw new InspectionError(
          'FRAME_EXPIRED',
          `frame of bottle ${ref.bottleId} from camera ${ref.camera} expired on line ${this.lineId}: ` +
            errorMessage(err),
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** True while the frame's slot still holds it; false for another line's frame. */
  isValid(ref: FrameRef): boolean {
    this.assertOpen();
    if (ref.line !== this.lineId || !isSlotNumber(ref.slot) || !isSlotNumber(ref.generation)) return false;
    return this.pool.isValid(ref.slot, ref.generation);
  }

  counters(): FramePoolCounters {
    this.assertOpen();
    return this.pool.counters();
  }

  /** Frees the slots (once inspections still reading have finished). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new InspectionError('POOL_CLOSED', `frame pool of line ${this.lineId} is closed`);
  }

  private assertOwnLine(ref: FrameRef): void {
    if (ref.line !== this.lineId) {
      throw new InspectionError(
        'INVALID_INPUT',
        `frame belongs to line ${ref.line}, this pool is line ${this.lineId}`,
      );
    }
    if (!isSlotNumber(ref.slot) || !isSlotNumber(ref.generation)) {
      throw new InspectionError(
        'INVALID_INPUT', `frame reference has slot ${ref.slot}, generation ${ref.generation}`);
    }
  }
}

function isSlotNumber(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
