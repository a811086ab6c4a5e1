/**
 * Decoding image files into raw pixels with sharp, for teaching, replay and evaluation.
 * Live frames never pass through here: cameras write straight into the frame pool.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';

import type { PixelFormat } from '../frames/frame-ref';
import { InspectionError, errorCode, errorMessage } from '../util/errors';

/** Raw pixels of one image: RGB8 packed R,G,B or Mono8, rows top to bottom, no padding. */
export interface DecodedImage {
  pixels: Buffer;
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  /** Where the pixels came from (a file path), for people reading results. */
  source: string;
}

export interface LoadImageOptions {
  /** Resize to exactly this size (aspect ratio not kept), as when a camera's ROI is fixed. */
  resize?: { width: number; height: number };
  /** Decode to one grey channel (Mono8) instead of RGB8. */
  grey?: boolean;
}

export const IMAGE_EXTENSIONS: readonly string[] = [
  '.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp',
];

/**
 * Image files in `dir`, as full paths sorted by their path below `dir`. With `recursive`, images in
 * subfolders count too (a replay folder sorted into good/ and defect folders plays them all).
 */
export async function listImages(dir: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, recursive: opts.recursive === true });
  } catch (err) {
    const code = errorCode(err);
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : errorMessage(err);
    throw new InspectionError('FOLDER_MISSING', `image folder ${dir} ${why}`, { cause: err });
  }
  const files = entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
    // Node 20 names the folder of a recursive entry `parentPath` (20.12 on) or `path` (before).
    .map((e) => {
      const folder = (e as { parentPath?: string }).parentPath ?? e.path ?? dir;
      return path.relative(dir, path.join(folder, e.name));
    })
    .sort();
  if (files.length === 0) {
    throw new InspectionError(
      'FOLDER_EMPTY',
      `image folder ${dir} holds no images (looked for ${IMAGE_EXTENSIONS.join(' ')})`,
    );
  }
  return files.map((name) => path.join(dir, name));
}

/** Decodes one file to RGB8 (or Mono8 with `grey`); alpha is dropped. */
export async function loadImage(file: string, opts: LoadImageOptions = {}): Promise<DecodedImage> {
  const { resize, grey = false } = opts;
  if (resize && !(isSide(resize.width) && isSide(resize.height))) {
    throw new InspectionError(
      'INVALID_INPUT',
      `resize must be whole numbers 1..65535, got ${resize.width}x${resize.height}`,
    );
  }
  try {
    let pipeline = sharp(file, { failOn: 'error' }).removeAlpha();
    if (resize) pipeline = pipeline.resize(resize.width, resize.height, { fit: 'fill' });
    pipeline = grey ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const channels = grey ? 1 : 3;
    if (info.channels !== channels) {
      throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    }
    const pixelFormat = grey ? 'Mono8' : 'RGB8';
    return { pixels: data, width: info.width, height: info.height, pixelFormat, source: file };
  } catch (err) {
    throw new InspectionError('IMAGE_UNREADABLE', `cannot decode image ${file}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

function isSide(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
