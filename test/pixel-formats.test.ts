/**
 * Bayer and Mono16 frames: stored in the pool as a camera sends them, converted on the inspection
 * thread and compared with the colour (RGB8) or grey (Mono8) reference. No camera needed: the
 * raw frames are made in JS from real sample images.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';

import { DEFAULT_DECISION, decide } from '../lib/decision/decide';
import { FramePool, type FrameMeta } from '../lib/frames/frame-pool';
import {
  PIXEL_FORMATS, bytesPerPixel, isColour, isFrameRef, referenceFormatOf, type FrameRef, type PixelFormat,
} from '../lib/frames/frame-ref';
import { loadImage, type DecodedImage } from '../lib/inspection/images';
import { DEFAULT_INSPECT_PARAMS, inspectFrame } from '../lib/inspection/inspect-frame';
import { teachFromFolder, teachFromImages, type TaughtReference } from '../lib/inspection/reference';
import type { Defect, InspectionResult } from '../lib/inspection/types';
import { loadNative } from '../lib/native';
import type { NativeInspector } from '../lib/native/types';
import type { Line } from '../lib/line/line';
import type { SimPlc } from '../lib/plc/sim-plc';
import { errorCode } from '../lib/util/errors';
import type { NodeMessage } from '../nodes/shared/red';
import { ID, lineFlow } from './support/flow';
import { sampleImagesDir } from './support/images';
import { allNodes } from './support/nodes';
import { startPlc } from './support/plc';
import { waitFor } from './support/wait';

helper.init(require.resolve('node-red'));

type BayerFormat = 'BayerRG8' | 'BayerGB8' | 'BayerGR8' | 'BayerBG8';
const BAYER: readonly BayerFormat[] = ['BayerRG8', 'BayerGB8', 'BayerGR8', 'BayerBG8'];

/** Channel (0 R, 1 G, 2 B) at [y % 2][x % 2] for each pattern, as GenICam names them. */
const LAYOUT: Record<BayerFormat, number[][]> = {
  BayerRG8: [[0, 1], [1, 2]],
  BayerGB8: [[1, 2], [0, 1]],
  BayerGR8: [[1, 0], [2, 1]],
  BayerBG8: [[2, 1], [1, 0]],
};

/** What a colour sensor with that filter pattern would have sent for this RGB8 image. */
function mosaic(image: DecodedImage, format: BayerFormat): DecodedImage {
  const { width, height, pixels } = image;
  const out = Buffer.alloc(width * height);
  const layout = LAYOUT[format];
  for (let y = 0; y < height; y++) {
    const row = layout[y % 2] as number[];
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      out[i] = pixels[i * 3 + (row[x % 2] as number)] as number;
    }
  }
  return { ...image, pixels: out, pixelFormat: format };
}

/** A Mono8 image as a 16-bit camera would send it: each value ×257, little-endian. */
function toMono16(image: DecodedImage): DecodedImage {
  const out = Buffer.alloc(image.pixels.length * 2);
  for (let i = 0; i < image.pixels.length; i++) out.writeUInt16LE((image.pixels[i] as number) * 257, i * 2);
  return { ...image, pixels: out, pixelFormat: 'Mono16' };
}

function flat(width: number, height: number, rgb: [number, number, number]): DecodedImage {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.set(rgb, i * 3);
  return { pixels, width, height, pixelFormat: 'RGB8', source: `flat ${rgb.join(',')}` };
}

function verdictOf(result: InspectionResult): string {
  return decide(result.bottleId, 0, ['top'], new Map([['top', result]]), DEFAULT_DECISION, 0).verdict;
}

function strongest(result: InspectionResult): Defect {
  const sorted = [...result.defects].sort((a, b) => b.severity - a.severity);
  assert.ok(sorted[0], 'at least one region is reported');
  return sorted[0];
}

const meta = (bottleId: number): FrameMeta => ({
  camera: 'cam-1', position: 'top', bottleId, sequence: bottleId, triggerTimeMs: 0, captureTimeMs: 0,
});

const images = sampleImagesDir();
const goodFile = path.join(images, 'top_view', 'good', 'mvtec_test_good_000.png');
const brokenFile = path.join(images, 'top_view', 'broken_large', 'mvtec_test_broken_large_000.png');

describe('pixel formats', () => {
  const addon = loadNative();
  let pool: FramePool;
  let inspector: NativeInspector;
  let bottle = 0;

  before(() => {
    pool = new FramePool('line-px', 900 * 900 * 3, 6);
    inspector = new addon.Inspector(pool.native, 2, 8);
  });
  after(() => {
    inspector.close();
    pool.close();
  });

  /** Writes the image into the pool as its own format and inspects it. */
  function inspect(image: DecodedImage, reference: TaughtReference): Promise<InspectionResult> {
    const frame = pool.put(image, meta(++bottle));
    assert.ok(frame, 'a pool slot is free');
    return inspectFrame(inspector, pool, frame, reference, DEFAULT_INSPECT_PARAMS, () => 0);
  }

  it('knows bytes per pixel, colour and the reference format of every format', () => {
    assert.deepEqual(PIXEL_FORMATS.map(bytesPerPixel), [1, 3, 2, 1, 1, 1, 1]);
    assert.deepEqual(PIXEL_FORMATS.map(isColour), [false, true, false, true, true, true, true]);
    assert.deepEqual(PIXEL_FORMATS.map(referenceFormatOf),
      ['Mono8', 'RGB8', 'Mono8', 'RGB8', 'RGB8', 'RGB8', 'RGB8']);
    const ref: FrameRef = {
      line: 'l', slot: 0, generation: 1, camera: 'c', position: 'top', bottleId: 1, sequence: 1,
      triggerTimeMs: 0, captureTimeMs: 0, width: 4, height: 4, pixelFormat: 'BayerGB8',
    };
    assert.ok(isFrameRef(ref));
    assert.ok(isFrameRef({ ...ref, pixelFormat: 'Mono16' }));
    assert.ok(!isFrameRef({ ...ref, pixelFormat: 'BayerRG10' }));
  });

  it('demosaics each Bayer pattern to the colours the sensor saw', async () => {
    // A flat orange reference: a frame whose red and blue came out swapped is far off it.
    const colour: [number, number, number] = [200, 110, 40];
    const reference = await teachFromImages([flat(64, 48, colour), flat(64, 48, colour)], { workSize: 64 });
    for (const format of BAYER) {
      const raw = mosaic(flat(64, 48, colour), format);
      const right = await inspect(raw, reference);
      assert.ok(right.ok, `${format}: ${right.error?.message}`);
      assert.equal(right.defects.length, 0, format);
      assert.ok(right.score < 0.2, `${format} scores ${right.score}`);
    }
    // The same mosaic read with the pattern whose red and blue are the other way round.
    const swapped: Record<BayerFormat, BayerFormat> = {
      BayerRG8: 'BayerBG8', BayerBG8: 'BayerRG8', BayerGB8: 'BayerGR8', BayerGR8: 'BayerGB8',
    };
    for (const format of BAYER) {
      const raw = { ...mosaic(flat(64, 48, colour), format), pixelFormat: swapped[format] };
      const wrong = await inspect(raw, reference);
      assert.ok(wrong.ok);
      assert.ok(wrong.score > 5, `${format} read as ${swapped[format]} scores ${wrong.score}`);
    }
  });

  describe('real images', () => {
    let colourRef: TaughtReference;
    let greyRef: TaughtReference;
    let good: DecodedImage;
    let broken: DecodedImage;

    before(async () => {
      const teach = path.join(images, 'teach', 'top_view');
      colourRef = await teachFromFolder(teach);
      greyRef = await teachFromFolder(teach, { pixelFormat: 'Mono8' });
      good = await loadImage(goodFile);
      broken = await loadImage(brokenFile);
    });

    it('inspects a Bayer frame like the RGB8 image it was mosaicked from', async () => {
      for (const [image, expected] of [[good, 'pass'], [broken, 'fail']] as const) {
        const rgb = await inspect(image, colourRef);
        assert.equal(verdictOf(rgb), expected, `RGB8 ${image.source}`);
        for (const format of BAYER) {
          const bayer = await inspect(mosaic(image, format), colourRef);
          const what = `${format} ${path.basename(image.source)}: scores ${bayer.score}, RGB8 ${rgb.score}`;
          assert.ok(bayer.ok, `${what}: ${bayer.error?.message}`);
          assert.equal(verdictOf(bayer), expected, what);
          // Bilinear demosaicking blurs fine detail a little; the working image barely notices.
          assert.ok(Math.abs(bayer.score - rgb.score) < 0.1 * rgb.score, what);
          const [a, b] = [strongest(bayer), strongest(rgb)];
          assert.ok(Math.abs(a.severity - b.severity) < 0.05, what);
          if (expected === 'fail') {
            assert.ok(Math.abs(a.rect.x - b.rect.x) < 20 && Math.abs(a.rect.y - b.rect.y) < 20, what);
          }
        }
      }
    });

    it('inspects a Mono16 frame exactly like the Mono8 image (values ×257)', async () => {
      for (const file of [goodFile, brokenFile]) {
        const grey = await loadImage(file, { grey: true });
        const mono8 = await inspect(grey, greyRef);
        const mono16 = await inspect(toMono16(grey), greyRef);
        assert.ok(mono8.ok && mono16.ok, mono16.error?.message);
        assert.equal(mono16.score, mono8.score);
        assert.deepEqual(mono16.defects, mono8.defects);
      }
    });

    it('compares Bayer with the colour reference and Mono16 with the grey one only', async () => {
      const grey = await loadImage(goodFile, { grey: true });
      const bayerVsGrey = await inspect(mosaic(good, 'BayerRG8'), greyRef);
      assert.equal(bayerVsGrey.error?.code, 'SIZE_MISMATCH');
      assert.match(bayerVsGrey.error?.message ?? '', /BayerRG8.*Mono8/);
      const mono16VsColour = await inspect(toMono16(grey), colourRef);
      assert.equal(mono16VsColour.error?.code, 'SIZE_MISMATCH');
    });
  });

  it('refuses a frame whose byte count does not fit its format', () => {
    const rgb = flat(8, 6, [1, 2, 3]);
    const put = (image: DecodedImage): unknown => pool.put(image, meta(++bottle));
    assert.throws(() => put({ ...rgb, pixelFormat: 'BayerGR8' }), (err: Error) =>
      errorCode(err) === 'INVALID_INPUT' &&
      err.message === '8x6 BayerGR8 (1 byte a pixel) needs 48 bytes of pixels, got 144');
    assert.throws(() => put({ ...rgb, pixels: rgb.pixels.subarray(0, 48), pixelFormat: 'Mono16' }),
      (err: Error) => errorCode(err) === 'INVALID_INPUT' && /Mono16 \(2 bytes a pixel\) needs 96 bytes/.test(err.message));
    assert.throws(() => put({ ...rgb, pixelFormat: 'BayerRG10' as PixelFormat }),
      (err: Error) => errorCode(err) === 'INVALID_INPUT' && /BayerRG8/.test(err.message));
  });

  it('names the bytes per pixel when the pool holds another layout than announced', async () => {
    const reference = await teachFromImages([flat(8, 6, [9, 9, 9]), flat(8, 6, [9, 9, 9])],
      { workSize: 16, pixelFormat: 'Mono8' });
    const frame = pool.put({ ...flat(8, 6, [9, 9, 9]), pixels: Buffer.alloc(48, 9), pixelFormat: 'Mono8' },
      meta(++bottle));
    assert.ok(frame);
    const outcome = await new Promise<{ code?: string; message: string }>((resolve) => {
      inspector.inspect(frame.slot, frame.generation, 8, 6, 2, reference.native,
        { ...DEFAULT_INSPECT_PARAMS, pixelFormat: 'Mono16' },
        (err) => resolve({ code: err?.code, message: err?.message ?? '' }));
    });
    assert.equal(outcome.code, 'SIZE_MISMATCH');
    assert.match(outcome.message, /1 bytes a pixel .*Mono16 has 2/);
    assert.throws(() => inspector.inspect(frame.slot, frame.generation, 8, 6, 1, reference.native,
      { ...DEFAULT_INSPECT_PARAMS, pixelFormat: 'Mono12' }, () => undefined),
    (err: Error) => errorCode(err) === 'INVALID_INPUT' && /Mono12/.test(err.message));
  });
});

describe('the inspect node with Bayer and Mono16 frames', function () {
  this.timeout(60_000);
  let plc: SimPlc;

  before(async () => {
    plc = await startPlc();
  });
  after(async () => {
    await plc.stop();
  });
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('compares Bayer frames with the colour reference and Mono16 with the grey one', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: plc.endpointUrl, lineOverrides: { maxBottles: '400' } }));
    const line = (helper.getNode(ID.line) as unknown as { line: Line }).line;
    const inspect = helper.getNode(ID.inspectTop) as unknown as { receive(msg: unknown): void };
    const results = new Map<number, InspectionResult>();
    (helper.getNode(ID.inspections) as unknown as { on(e: string, fn: (msg: NodeMessage) => void): void })
      .on('input', (msg) => {
        const r = msg.inspection as InspectionResult;
        if (r.bottleId >= 900_000) results.set(r.bottleId, r);
      });
    await waitFor('the line running', () => line.state === 'running', 30_000);
    const good = await loadImage(goodFile);
    const grey = await loadImage(goodFile, { grey: true });
    const send = (image: DecodedImage, bottleId: number): void => {
      const frame = line.pool?.put(image, { ...meta(bottleId), triggerTimeMs: line.clock.now() });
      assert.ok(frame);
      inspect.receive({ frame });
    };

    send(mosaic(good, 'BayerGR8'), 900_001);
    send(toMono16(grey), 900_002);
    await waitFor('two results', () => results.size === 2);
    const bayer = results.get(900_001);
    assert.ok(bayer?.ok, bayer?.error?.message);
    assert.equal(verdictOf(bayer), 'pass');
    assert.equal(results.get(900_002)?.error?.code, 'NOT_TAUGHT', 'the first grey frame waits for the grey reference');

    // Mono16 frames go on waiting for, then use, the grey reference (not one of their own).
    let next = 900_003;
    await waitFor('a Mono16 frame inspected', () => {
      const last = results.get(next - 1);
      if (last?.ok) return true;
      if (last || next === 900_003) send(toMono16(grey), next++);
      return false;
    }, 30_000);
    assert.equal(verdictOf(results.get(next - 1) as InspectionResult), 'pass');
    send(grey, next);
    await waitFor('a Mono8 frame inspected', () => results.has(next));
    assert.ok(results.get(next)?.ok, 'Mono8 uses the same grey reference at once');
  });
});
