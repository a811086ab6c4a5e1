/**
 * Teaching a reference of a good bottle from good images of one view. Decoding runs in sharp's
 * threads and the model is built on a native worker thread; the event loop only coordinates.
 */
import * as os from 'node:os';

import type { PixelFormat } from '../frames/frame-ref';
import { channelsOf } from '../frames/frame-ref';
import { loadNative } from '../native';
import type { NativeReference } from '../native/types';
import { InspectionError, errorCode } from '../util/errors';
import { type DecodedImage, listImages, loadImage } from './images';

export interface TaughtReference {
  native: NativeReference;
  /** Frame size and format the reference accepts. */
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  imageCount: number;
  /** Folder it was taught from, when it was. */
  folder?: string;
}

export interface TeachOptions {
  /** Longer side of the working image in pixels (16..4096). */
  workSize?: number;
  /** Resize every teach image to this size first (to match the camera frames). */
  resize?: { width: number; height: number };
  /** Pixel format to teach in; frames must arrive in the same format. RGB8 by default. */
  pixelFormat?: PixelFormat;
}

export const DEFAULT_WORK_SIZE = 256;

/** Images decoded at once while teaching from a folder. */
const DECODE_CONCURRENCY = Math.max(2, Math.min(8, os.availableParallelism()));

export function validateTeachOptions(opts: TeachOptions): string | undefined {
  const { workSize = DEFAULT_WORK_SIZE, resize, pixelFormat = 'RGB8' } = opts;
  if (!(Number.isInteger(workSize) && workSize >= 16 && workSize <= 4096)) {
    return `work size must be a whole number 16..4096 pixels, got ${workSize}`;
  }
  if (resize && !(validSide(resize.width) && validSide(resize.height))) {
    return `resize must be whole numbers 1..65535 pixels, got ${resize.width}x${resize.height}`;
  }
  if (pixelFormat !== 'RGB8' && pixelFormat !== 'Mono8') {
    return `pixel format must be RGB8 or Mono8, got ${String(pixelFormat)}`;
  }
  return undefined;
}

/** Teaches from every image in `dir`; they must all have the same size (after `resize`). */
export async function teachFromFolder(dir: string, opts: TeachOptions = {}): Promise<TaughtReference> {
  checkOptions(opts);
  let files: string[];
  try {
    files = await listImages(dir);
  } catch (err) {
    if (errorCode(err) === 'FOLDER_MISSING') {
      throw new InspectionError(
        'TEACH_FOLDER_MISSING', `teach folder ${dir} does not exist or is not a folder`, { cause: err });
    }
    if (errorCode(err) === 'FOLDER_EMPTY') {
      throw new InspectionError('TEACH_FOLDER_EMPTY', `teach folder ${dir} holds no images of good bottles`, {
        cause: err,
      });
    }
    throw err;
  }
  const grey = opts.pixelFormat === 'Mono8';
  const images = await mapBounded(files, DECODE_CONCURRENCY, (file) =>
    loadImage(file, { resize: opts.resize, grey }),
  );
  const reference = await teachFromImages(images, opts);
  return { ...reference, folder: dir };
}

/** Teaches from decoded images of one size and pixel format. */
export async function teachFromImages(
  images: readonly DecodedImage[],
  opts: TeachOptions = {},
): Promise<TaughtReference> {
  checkOptions(opts);
  if (images.length === 0) throw new InspectionError('TEACH_FOLDER_EMPTY', 'no images to teach from');
  const first = images[0];
  for (const image of images) {
    const same = image.width === first.width && image.height === first.height &&
      image.pixelFormat === first.pixelFormat;
    if (!same) {
      throw new InspectionError(
        'SIZE_MISMATCH',
        `teach image ${image.source} is ${image.width}x${image.height} ${image.pixelFormat}, ` +
          `but ${first.source} is ${first.width}x${first.height} ${first.pixelFormat}; all must match`,
      );
    }
  }
  const channels = channelsOf(first.pixelFormat);
  const workSize = opts.workSize ?? DEFAULT_WORK_SIZE;
  const input = images.map((im) => ({ pixels: im.pixels, width: im.width, height: im.height, channels }));
  const native = await new Promise<NativeReference>((resolve, reject) => {
    loadNative().teach(input, { workSize }, (err, reference) => {
      if (err || !reference) reject(err ?? new Error('teach returned no reference'));
      else resolve(reference);
    });
  });
  return {
    native,
    width: first.width,
    height: first.height,
    pixelFormat: first.pixelFormat,
    imageCount: images.length,
  };
}

/** Restores a reference saved with `reference.native.serialize()`. Throws INVALID_INPUT for bad data. */
export function loadReference(data: Uint8Array, folder?: string): TaughtReference {
  const native = loadNative().deserializeReference(data);
  return {
    native,
    width: native.width,
    height: native.height,
    pixelFormat: native.channels === 1 ? 'Mono8' : 'RGB8',
    imageCount: native.imageCount,
    ...(folder !== undefined ? { folder } : {}),
  };
}

function checkOptions(opts: TeachOptions): void {
  const problem = validateTeachOptions(opts);
  if (problem) throw new InspectionError('INVALID_CONFIG', problem);
}

function validSide(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
