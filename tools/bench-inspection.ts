/**
 * Throughput of the native inspection path against the naive flow, on real images resized to a
 * 1600×1200 camera frame.
 *
 * Native: frames go into the frame pool (FramePool.put copies the pixels once, as a camera would
 * write them) and are inspected on one native thread per core, with the queue kept full; results
 * come back on the event loop. Naive: each frame travels as image bytes in a message payload,
 * copied per message as a Node-RED clone would, and is inspected in plain JavaScript on the main
 * thread (lib/inspection/naive.ts).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { FramePool } from '../lib/frames/frame-pool';
import { channelsOf } from '../lib/frames/frame-ref';
import { IMAGE_EXTENSIONS, listImages, loadImage, type DecodedImage } from '../lib/inspection/images';
import { DEFAULT_INSPECT_PARAMS, inspectFrame } from '../lib/inspection/inspect-frame';
import { naiveInspect, naiveTeach, type NaiveImage } from '../lib/inspection/naive';
import { DEFAULT_WORK_SIZE, teachFromImages } from '../lib/inspection/reference';
import { loadNative } from '../lib/native';
import { InspectionError, errorCode } from '../lib/util/errors';

export interface BenchInspectionOptions {
  /** Folder of images to inspect (searched recursively; ground_truth folders are skipped). */
  images: string;
  /** Folder of good images to teach from. */
  teach: string;
  /** Seconds each of the two runs lasts (default 10). */
  seconds?: number;
  /** Stop each run after this many views, if that comes first. */
  views?: number;
}

export interface BenchInspectionResult {
  inspection: { viewsPerSecond: number; msPerView: number; p50Ms: number; p99Ms: number; threads: number };
  naive: { viewsPerSecond: number };
  ratio: number;
}

const FRAME = { width: 1600, height: 1200 } as const;
const MAX_IMAGES = 16;
const MAX_TEACH_IMAGES = 24;

export async function benchInspection(opts: BenchInspectionOptions): Promise<BenchInspectionResult> {
  const seconds = opts.seconds ?? 10;
  const maxViews = opts.views ?? Number.POSITIVE_INFINITY;
  if (!(seconds > 0) || !(maxViews > 0)) {
    throw new InspectionError(
      'INVALID_CONFIG', `seconds and views must be > 0, got ${seconds} and ${opts.views}`);
  }
  const files = (await findImages(opts.images)).slice(0, MAX_IMAGES);
  if (files.length === 0) throw new InspectionError('FOLDER_EMPTY', `no images under ${opts.images}`);
  const teachFiles = (await listImages(opts.teach)).slice(0, MAX_TEACH_IMAGES);
  const frames = await Promise.all(files.map((f) => loadImage(f, { resize: FRAME })));
  const teachImages = await Promise.all(teachFiles.map((f) => loadImage(f, { resize: FRAME })));

  const inspection = await benchNative(frames, teachImages, seconds, maxViews);
  const naive = benchNaive(frames, teachImages, seconds, maxViews);
  return { inspection, naive, ratio: round(inspection.viewsPerSecond / naive.viewsPerSecond) };
}

async function benchNative(
  frames: DecodedImage[], teachImages: DecodedImage[], seconds: number, maxViews: number,
): Promise<BenchInspectionResult['inspection']> {
  const reference = await teachFromImages(teachImages, { workSize: DEFAULT_WORK_SIZE });
  const threads = os.availableParallelism();
  const queueLimit = threads * 2;
  const frameBytes = FRAME.width * FRAME.height * channelsOf('RGB8');
  const pool = new FramePool('bench', frameBytes, queueLimit + threads + 2);
  const inspector = new (loadNative().Inspector)(pool.native, threads, queueLimit);
  const latenciesMs: number[] = [];
  let inspectMsTotal = 0;
  let submitted = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;

  try {
    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let stopped = false;
      const pump = (): void => {
        while (!stopped && inFlight < queueLimit) {
          if (performance.now() >= deadline || submitted >= maxViews) {
            stopped = true;
            break;
          }
          const now = performance.now();
          const frame = pool.put(frames[submitted % frames.length], {
            camera: 'bench', position: 'top', bottleId: submitted, sequence: submitted,
            triggerTimeMs: now, captureTimeMs: now,
          });
          if (!frame) break; // every slot pinned: wait for a result
          submitted++;
          inFlight++;
          const clock = (): number => performance.now();
          inspectFrame(inspector, pool, frame, reference, DEFAULT_INSPECT_PARAMS, clock).then(
            (result) => {
              inFlight--;
              if (!result.ok) {
                reject(new Error(`bench frame failed: ${result.error?.code} ${result.error?.message}`));
                return;
              }
              latenciesMs.push(result.latencyMs);
              inspectMsTotal += result.inspectMs;
              pump();
            },
            (err: unknown) => {
              inFlight--;
              submitted--;
              if (errorCode(err) === 'QUEUE_FULL') setImmediate(pump);
              else reject(err);
            },
          );
        }
        if (stopped && inFlight === 0) resolve();
      };
      pump();
    });
  } finally {
    inspector.close();
    pool.close();
  }
  const elapsedS = (performance.now() - started) / 1000;
  latenciesMs.sort((a, b) => a - b);
  return {
    viewsPerSecond: round(latenciesMs.length / elapsedS),
    msPerView: round(inspectMsTotal / latenciesMs.length),
    p50Ms: round(percentile(latenciesMs, 0.5)),
    p99Ms: round(percentile(latenciesMs, 0.99)),
    threads,
  };
}

function benchNaive(
  frames: DecodedImage[], teachImages: DecodedImage[], seconds: number, maxViews: number,
): BenchInspectionResult['naive'] {
  const asNaive = (im: DecodedImage): NaiveImage => ({
    pixels: im.pixels, width: im.width, height: im.height, channels: channelsOf(im.pixelFormat),
  });
  const reference = naiveTeach(teachImages.map(asNaive), DEFAULT_WORK_SIZE);
  const params = { threshold: DEFAULT_INSPECT_PARAMS.threshold, minAreaPx: DEFAULT_INSPECT_PARAMS.minAreaPx };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let views = 0;
  while (performance.now() < deadline && views < maxViews) {
    const source = frames[views % frames.length];
    // The naive flow carries the image bytes in the message; a clone copies them.
    const msg = { payload: Buffer.from(source.pixels), width: source.width, height: source.height };
    const image = { pixels: msg.payload, width: msg.width, height: msg.height, channels: 3 };
    naiveInspect(reference, image, params);
    views++;
  }
  return { viewsPerSecond: round(views / ((performance.now() - started) / 1000)) };
}

/** Image files under `dir`, recursively, skipping ground-truth mask folders; sorted. */
async function findImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'ground_truth') await walk(full);
      } else if (e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) {
        out.push(full);
      }
    }
  };
  try {
    await walk(dir);
  } catch (err) {
    throw new InspectionError('FOLDER_MISSING', `cannot read image folder ${dir}`, { cause: err });
  }
  return out;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
