import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

import { DEFAULT_DECISION, decide } from '../lib/decision/decide';
import { FramePool, type FrameMeta } from '../lib/frames/frame-pool';
import type { FrameRef } from '../lib/frames/frame-ref';
import { listImages, loadImage, type DecodedImage } from '../lib/inspection/images';
import {
  DEFAULT_INSPECT_PARAMS, inspectFrame, validateInspectParams, type InspectParams,
} from '../lib/inspection/inspect-frame';
import { naiveInspect, naiveTeach } from '../lib/inspection/naive';
import { loadReference, teachFromFolder, type TaughtReference } from '../lib/inspection/reference';
import type { InspectionResult } from '../lib/inspection/types';
import { loadNative } from '../lib/native';
import type { NativeInspector } from '../lib/native/types';
import { errorCode } from '../lib/util/errors';
import { imagesDir } from './support/images';

const images = imagesDir();
const GOOD = path.join('good', 'mvtec_test_good_000.png');
const BROKEN = path.join('broken_large', 'mvtec_test_broken_large_000.png');
const meta = (bottleId: number): FrameMeta => ({
  camera: 'cam-1', position: 'top', bottleId, sequence: bottleId, triggerTimeMs: 1000, captureTimeMs: 1005,
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bottle-inspection-'));
}

async function writePng(file: string, width: number, height: number): Promise<void> {
  const background = { r: 90, g: 120, b: 150 };
  await sharp({ create: { width, height, channels: 3, background } }).png().toFile(file);
}

describe('image files', () => {
  it('lists images sorted and names a missing or empty folder', async () => {
    const listed = await listImages(path.join(images, 'teach', 'top_view'));
    assert.ok(listed.length >= 8);
    assert.deepEqual([...listed].sort(), listed);
    await assert.rejects(listImages(path.join(images, 'no-such-folder')), (err: Error) =>
      errorCode(err) === 'FOLDER_MISSING' && err.message.includes('no-such-folder'));
    const empty = tmpDir();
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'not an image');
    await assert.rejects(listImages(empty), (err: Error) =>
      errorCode(err) === 'FOLDER_EMPTY' && err.message.includes(empty));
  });

  it('decodes RGB8 and Mono8, resizes, and names a file it cannot read', async () => {
    const file = path.join(images, 'top_view', 'good', 'mvtec_test_good_000.png');
    const rgb = await loadImage(file);
    assert.deepEqual([rgb.width, rgb.height, rgb.pixelFormat, rgb.pixels.length],
      [900, 900, 'RGB8', 900 * 900 * 3]);
    const grey = await loadImage(file, { grey: true, resize: { width: 160, height: 120 } });
    assert.deepEqual([grey.width, grey.height, grey.pixelFormat, grey.pixels.length],
      [160, 120, 'Mono8', 160 * 120]);
    const broken = path.join(tmpDir(), 'broken.png');
    fs.writeFileSync(broken, 'this is not a png');
    await assert.rejects(loadImage(broken), (err: Error) =>
      errorCode(err) === 'IMAGE_UNREADABLE' && err.message.includes(broken));
  });
});

describe('teaching', () => {
  it('names a missing or empty teach folder', async () => {
    await assert.rejects(teachFromFolder(path.join(images, 'teach', 'no-such-view')),
      (err) => errorCode(err) === 'TEACH_FOLDER_MISSING');
    await assert.rejects(teachFromFolder(tmpDir()), (err) => errorCode(err) === 'TEACH_FOLDER_EMPTY');
  });

  it('names the image whose size differs from the others', async () => {
    const dir = tmpDir();
    await writePng(path.join(dir, 'a.png'), 64, 48);
    await writePng(path.join(dir, 'b.png'), 64, 48);
    await writePng(path.join(dir, 'c.png'), 80, 48);
    await assert.rejects(teachFromFolder(dir), (err: Error) =>
      errorCode(err) === 'SIZE_MISMATCH' && /c\.png/.test(err.message));
    const resized = await teachFromFolder(dir, { resize: { width: 64, height: 48 } });
    assert.deepEqual([resized.width, resized.height, resized.imageCount, resized.folder], [64, 48, 3, dir]);
  });
});

describe('inspecting real bottle images', () => {
  const addon = loadNative();
  const references = new Map<string, TaughtReference>();
  let pool: FramePool;
  let inspector: NativeInspector;
  let clockMs = 1000;
  const now = (): number => clockMs;

  before(async () => {
    for (const view of ['top_view', 'side_view_juice']) {
      references.set(view, await teachFromFolder(path.join(images, 'teach', view)));
    }
    pool = new FramePool('line-1', 800 * 1600 * 3, 6);
    inspector = new addon.Inspector(pool.native, 2, 8);
  });

  after(() => {
    inspector.close();
    pool.close();
  });

  async function inspectFile(view: string, file: string): Promise<InspectionResult> {
    const image = await loadImage(path.join(images, view, file));
    const frame = pool.put(image, meta(1));
    assert.ok(frame);
    return inspectFrame(inspector, pool, frame, reference(view), DEFAULT_INSPECT_PARAMS, now);
  }

  const reference = (view: string): TaughtReference => references.get(view) as TaughtReference;

  const verdictOf = (result: InspectionResult): string =>
    decide(1, result.triggerTimeMs, ['top'], new Map([['top', result]]), DEFAULT_DECISION, 0).verdict;

  for (const [view, file] of [
    ['top_view', 'good/mvtec_test_good_000.png'], ['top_view', 'good/mvtec_test_good_001.png'],
    ['side_view_juice', 'good/loco_train_good_000.png'], ['side_view_juice', 'good/loco_train_good_001.png'],
  ]) {
    it(`passes the good bottle ${view}/${file}`, async () => {
      const result = await inspectFile(view, file);
      assert.equal(result.ok, true);
      assert.equal(verdictOf(result), 'pass', JSON.stringify(result.defects));
      assert.ok(result.score < 2, `score ${result.score}`);
      assert.ok(result.inspectMs > 0 && result.inspectMs < 1000);
    });
  }

  for (const [view, file] of [
    ['top_view', 'broken_large/mvtec_test_broken_large_000.png'],
    ['top_view', 'contamination/mvtec_test_contamination_000.png'],
    ['side_view_juice', 'label_missing/loco_logical_000.png'],
  ]) {
    it(`fails the defective bottle ${view}/${file} with deviation defects inside the frame`, async () => {
      const result = await inspectFile(view, file);
      const reference = references.get(view) as TaughtReference;
      assert.equal(result.ok, true);
      assert.equal(verdictOf(result), 'fail');
      assert.ok(result.score > 1, `score ${result.score}`);
      assert.ok(result.defects.length > 0);
      for (const d of result.defects) {
        assert.equal(d.type, 'deviation');
        assert.ok(d.rect.x >= 0 && d.rect.y >= 0 && d.rect.width > 0 && d.rect.height > 0);
        assert.ok(d.rect.x + d.rect.width <= reference.width && d.rect.y + d.rect.height <= reference.height);
        assert.ok(d.areaPx >= DEFAULT_INSPECT_PARAMS.minAreaPx && d.areaPx <= d.rect.width * d.rect.height);
        assert.ok(d.severity >= 0 && d.severity <= 1 && d.confidence >= 0 && d.confidence <= 1);
      }
    });
  }

  it('reports the latency from trigger to result on the injected clock', async () => {
    clockMs = 1042;
    const result = await inspectFile('top_view', 'good/mvtec_test_good_000.png');
    assert.equal(result.latencyMs, 42);
    assert.equal(result.triggerTimeMs, 1000);
    assert.deepEqual([result.bottleId, result.camera, result.position], [1, 'cam-1', 'top']);
    clockMs = 1000;
  });

  it('answers SIZE_MISMATCH, naming both sizes, for a frame of another size', async () => {
    const file = path.join(images, 'top_view', 'good', 'mvtec_test_good_000.png');
    const image = await loadImage(file, { resize: { width: 640, height: 480 } });
    const frame = pool.put(image, meta(2));
    assert.ok(frame);
    const result = await inspectFrame(
      inspector, pool, frame, reference('top_view'), DEFAULT_INSPECT_PARAMS, now);
    assert.equal(result.ok, false);
    assert.equal(result.error?.code, 'SIZE_MISMATCH');
    assert.match(result.error?.message ?? '', /640x480.*900x900/);
    assert.equal(verdictOf(result), 'uncertain');
  });

  it('answers FRAME_EXPIRED for a frame whose slot was reused, and read() says so too', async () => {
    const image = await loadImage(path.join(images, 'top_view', 'good', 'mvtec_test_good_000.png'));
    const frame = pool.put(image, meta(3)) as FrameRef;
    for (let i = 0; i < pool.slotCount; i++) pool.put(image, meta(4 + i));
    assert.equal(pool.isValid(frame), false);
    assert.throws(() => pool.read(frame), (err: Error) =>
      errorCode(err) === 'FRAME_EXPIRED' && err.message.includes('line-1'));
    const result = await inspectFrame(
      inspector, pool, frame, reference('top_view'), DEFAULT_INSPECT_PARAMS, now);
    assert.equal(result.ok, false);
    assert.equal(result.error?.code, 'FRAME_EXPIRED');
  });

  it('refuses a frame of another line', () => {
    const image: DecodedImage = {
      pixels: Buffer.alloc(12), width: 2, height: 2, pixelFormat: 'RGB8', source: 'x',
    };
    const frame = pool.put(image, meta(5)) as FrameRef;
    assert.deepEqual(pool.read(frame), Buffer.alloc(12));
    assert.throws(() => pool.read({ ...frame, line: 'line-2' }), (err) => errorCode(err) === 'INVALID_INPUT');
    assert.equal(pool.isValid({ ...frame, line: 'line-2' }), false);
    assert.throws(() => pool.put({ ...image, pixels: Buffer.alloc(11) }, meta(6)),
      (err) => errorCode(err) === 'INVALID_INPUT');
  });

  it('inspects identically with a reference restored from its saved bytes', async () => {
    const original = references.get('top_view') as TaughtReference;
    const restored = loadReference(original.native.serialize(), original.folder);
    assert.deepEqual([restored.width, restored.height, restored.pixelFormat, restored.imageCount],
      [original.width, original.height, original.pixelFormat, original.imageCount]);
    const image = await loadImage(path.join(images, 'top_view', BROKEN));
    const frame = pool.put(image, meta(7)) as FrameRef;
    const [a, b] = await Promise.all([
      inspectFrame(inspector, pool, frame, original, DEFAULT_INSPECT_PARAMS, now),
      inspectFrame(inspector, pool, frame, restored, DEFAULT_INSPECT_PARAMS, now),
    ]);
    assert.ok(a.defects.length > 0);
    assert.deepEqual(b.defects, a.defects);
    assert.equal(b.score, a.score);
    assert.throws(() => loadReference(Buffer.from('garbage')), (err) => errorCode(err) === 'INVALID_INPUT');
  });

  it('names the parameter out of range', () => {
    assert.equal(validateInspectParams(DEFAULT_INSPECT_PARAMS), undefined);
    const problem = (p: Partial<InspectParams>): string =>
      validateInspectParams({ ...DEFAULT_INSPECT_PARAMS, ...p }) ?? '';
    assert.match(problem({ threshold: 0 }), /threshold must be 0.5..100.*got 0/);
    assert.match(problem({ minAreaPx: -1 }), /minimum defect area/);
    assert.match(problem({ maxShift: 0.9 }), /maximum shift must be 0..0.5/);
  });
});

describe('naive inspection (benchmark baseline)', () => {
  it('scores a defective bottle above a good one', async () => {
    const size = { width: 300, height: 300 };
    const teachFiles = (await listImages(path.join(images, 'teach', 'top_view'))).slice(0, 8);
    const teach = await Promise.all(teachFiles.map((f) => loadImage(f, { resize: size })));
    const asNaive = (im: DecodedImage): { pixels: Buffer; width: number; height: number; channels: number } =>
      ({ pixels: im.pixels, width: im.width, height: im.height, channels: 3 });
    const reference = naiveTeach(teach.map(asNaive), 128);
    const good = await loadImage(path.join(images, 'top_view', GOOD), { resize: size });
    const bad = await loadImage(path.join(images, 'top_view', BROKEN), { resize: size });
    const params = { threshold: DEFAULT_INSPECT_PARAMS.threshold, minAreaPx: 100 };
    const g = naiveInspect(reference, asNaive(good), params);
    const b = naiveInspect(reference, asNaive(bad), params);
    assert.ok(Number.isFinite(g.score) && b.score > g.score, `good ${g.score}, bad ${b.score}`);
    assert.ok(b.defects.length > 0);
  });
});
