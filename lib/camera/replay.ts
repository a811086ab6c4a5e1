import sharp from 'sharp';
import type { CameraPosition, FrameRef, PixelFormat } from '../frames/frame-ref';
import { channelsOf } from '../frames/frame-ref';
import type { FramePool } from '../frames/frame-pool';
import { listImages, loadImage, type DecodedImage } from '../inspection/images';
import type { Bottle } from '../tracking/tracker';
import type { Clock } from '../util/clock';
import { InspectionError, errorMessage } from '../util/errors';
import type { CameraCounters, CameraSource } from './source';

export interface ReplayOptions {
  id: string;
  position: CameraPosition;
  folder: string;
  /** Scale every image to this size, to play a folder as if from a camera of that resolution. */
  resize?: { width: number; height: number };
  /** Store frames as grey (Mono8) instead of the images' own colour (RGB8). */
  grey?: boolean;
  /** Decoded images kept in memory. A folder that fits is decoded once; a larger one streams. */
  cacheBytes?: number;
}

const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;
/** How many images ahead a streaming folder decodes. */
const PREFETCH = 8;

/**
 * Plays a folder of images as if from a camera: each trigger takes the next image, in path order
 * (subfolders included), looping at the end. Images are decoded ahead of time with sharp (off the event loop), so
 * serving a trigger costs one copy into the pool. If the next image is not decoded in time, the
 * trigger is missed and counted rather than waited for.
 */
export class ReplaySource implements CameraSource {
  readonly id: string;
  readonly position: CameraPosition;
  maxFrameBytes = 0;
  onFrame?: (frame: FrameRef) => void;
  onMissed?: (bottle: Bottle, reason: string) => void;

  private files: string[] = [];
  /** Files of the folder left out because they could not be read as images. */
  unreadable: string[] = [];
  private readonly cache = new Map<number, DecodedImage>();
  private readonly decoding = new Set<number>();
  private keepAll = false;
  private next = 0;
  private sequence = 0;
  private closed = false;
  private readonly count: CameraCounters = { triggers: 0, frames: 0, missed: 0 };
  private readonly started: Promise<void>;

  constructor(private readonly opts: ReplayOptions, private readonly clock: Clock) {
    this.id = opts.id;
    this.position = opts.position;
    this.started = this.prepare();
    // A failure is reported through ready(); keep an unobserved rejection from being fatal.
    this.started.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.started;
  }

  get imageCount(): number {
    return this.files.length;
  }

  capture(bottle: Bottle, pool: FramePool): void {
    this.count.triggers++;
    const index = this.next;
    this.next = (this.next + 1) % Math.max(1, this.files.length);
    const image = this.cache.get(index);
    if (!this.keepAll) {
      this.cache.delete(index);
      this.prefetch();
    }
    if (!image) return this.miss(bottle, 'replay image not decoded in time');

    let frame: FrameRef | null;
    try {
      frame = pool.put(image, {
        camera: this.id,
        position: this.position,
        bottleId: bottle.id,
        sequence: ++this.sequence,
        triggerTimeMs: bottle.triggerTimeMs,
        captureTimeMs: this.clock.now(),
        source: image.source,
      });
    } catch (err) {
      // An image larger than the pool's slots (the folder changed while the line ran).
      return this.miss(bottle, errorMessage(err));
    }
    if (!frame) return this.miss(bottle, 'frame pool full');
    this.count.frames++;
    this.onFrame?.(frame);
  }

  counters(): CameraCounters {
    return { ...this.count };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
  }

  private miss(bottle: Bottle, reason: string): void {
    this.count.missed++;
    this.onMissed?.(bottle, reason);
  }

  private async prepare(): Promise<void> {
    const listed = await listImages(this.opts.folder, { recursive: true });
    const sizes = await Promise.all(listed.map((f) => this.frameBytesOf(f)));
    // Files whose header cannot be read are left out and named, rather than failing the camera.
    this.unreadable = listed.filter((_, i) => sizes[i] === undefined);
    this.files = listed.filter((_, i) => sizes[i] !== undefined);
    if (this.files.length === 0) {
      throw new InspectionError('IMAGE_UNREADABLE', `no image in ${this.opts.folder} could be read (${listed.length} tried)`);
    }
    const frameBytes = sizes.filter((n): n is number => n !== undefined);
    this.maxFrameBytes = Math.max(...frameBytes);
    const total = frameBytes.reduce((a, b) => a + b, 0);
    this.keepAll = total <= (this.opts.cacheBytes ?? DEFAULT_CACHE_BYTES);
    const first = this.keepAll ? this.files.length : Math.min(PREFETCH, this.files.length);
    await Promise.all(Array.from({ length: first }, (_, i) => this.decode(i)));
    if (this.cache.size === 0) {
      throw new InspectionError('IMAGE_UNREADABLE', `no image in ${this.opts.folder} could be decoded`);
    }
  }

  /** Bytes a frame of this file takes in the pool; undefined if the file is not a readable image. */
  private async frameBytesOf(file: string): Promise<number | undefined> {
    const format: PixelFormat = this.opts.grey ? 'Mono8' : 'RGB8';
    try {
      const meta = await sharp(file).metadata();
      if (!meta.width || !meta.height) return undefined;
      const { width, height } = this.opts.resize ?? { width: meta.width, height: meta.height };
      return width * height * channelsOf(format);
    } catch {
      return undefined;
    }
  }

  private prefetch(): void {
    for (let k = 0; k < PREFETCH; k++) {
      const index = (this.next + k) % this.files.length;
      if (!this.cache.has(index) && !this.decoding.has(index)) void this.decode(index);
    }
  }

  private async decode(index: number): Promise<void> {
    this.decoding.add(index);
    try {
      const image = await loadImage(this.files[index], { resize: this.opts.resize, grey: this.opts.grey });
      if (!this.closed) this.cache.set(index, image);
    } catch {
      // An unreadable file is skipped: its triggers are missed and counted, the rest play on.
    } finally {
      this.decoding.delete(index);
    }
  }
}
