import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

import { loadNative } from '../lib/native';
import type {
  InspectOptions, NativeInspectResult, NativeInspector, NativeReference,
} from '../lib/native/types';
import { errorCode } from '../lib/util/errors';

type Pinnable = { pin(slot: number, generation: number): boolean; unpin(slot: number): void };
type Callback = (err: (Error & { code?: string }) | null, result?: NativeInspectResult) => void;

const addon = loadNative();
const OPTIONS: InspectOptions = { threshold: 3.5, minAreaPx: 40, maxShift: 0.1 };

/** A synthetic RGB "bottle": a bright disc on a dark background, optionally with a dark square. */
type Flaw = { x: number; y: number; size: number };

function bottleImage(width: number, height: number, seed: number, flaw?: Flaw): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed * 7919 + 1;
  const noise = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 6 - 3;
  };
  const cx = width / 2 + (seed % 3) - 1;
  const cy = height / 2 + ((seed >> 1) % 3) - 1;
  const radius = Math.min(width, height) * 0.35;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = Math.hypot(x - cx, y - cy) < radius;
      const inFlaw = flaw && x >= flaw.x && x < flaw.x + flaw.size && y >= flaw.y && y < flaw.y + flaw.size;
      const base = inFlaw ? [20, 20, 120] : inside ? [200, 170, 90] : [40, 40, 40];
      for (let k = 0; k < 3; k++) {
        pixels[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, base[k] + noise()));
      }
    }
  }
  return pixels;
}

function teach(images: Buffer[], width: number, height: number): Promise<NativeReference> {
  return new Promise((resolve, reject) => {
    const input = images.map((pixels) => ({ pixels, width, height, channels: 3 }));
    addon.teach(input, { workSize: 128 }, (err, ref) =>
      err || !ref ? reject(err ?? new Error('no reference')) : resolve(ref));
  });
}

/** Queues one inspection and resolves with its callback arguments. */
function inspectOnce(
  inspector: NativeInspector, slot: number, generation: number, width: number, height: number,
  reference: NativeReference,
): Promise<{ err: (Error & { code?: string }) | null; result?: NativeInspectResult }> {
  return new Promise((resolve) => {
    const queued = inspector.inspect(slot, generation, width, height, 3, reference, OPTIONS, (err, result) =>
      resolve({ err, result }));
    assert.equal(queued, true);
  });
}

describe('native frame pool', () => {
  it('returns exactly the bytes written', () => {
    const pool = new addon.FramePool(64, 2);
    const pixels = Buffer.from(Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 37) % 256));
    const where = pool.write(pixels, 4, 3, 3);
    assert.ok(where);
    assert.deepEqual(pool.read(where.slot, where.generation), pixels);
    assert.equal(pool.isValid(where.slot, where.generation), true);
    assert.deepEqual(pool.counters(), { writes: 1, dropped: 0, pinned: 0 });
    pool.close();
  });

  it('reuses slots round-robin, oldest first', () => {
    const pool = new addon.FramePool(16, 3);
    const slots = [1, 2, 3, 4].map((v) => pool.write(Buffer.alloc(4, v), 2, 2, 1)?.slot);
    assert.deepEqual(slots, [0, 1, 2, 0]);
    pool.close();
  });

  it('answers FRAME_EXPIRED, naming slot and generations, once a slot is reused', () => {
    const pool = new addon.FramePool(16, 1);
    const first = pool.write(Buffer.alloc(4, 1), 2, 2, 1);
    const second = pool.write(Buffer.alloc(4, 2), 2, 2, 1);
    assert.ok(first && second);
    assert.equal(second.slot, first.slot);
    assert.equal(second.generation, first.generation + 1);
    assert.equal(pool.isValid(first.slot, first.generation), false);
    assert.throws(() => pool.read(first.slot, first.generation), (err: Error) => {
      assert.equal(errorCode(err), 'FRAME_EXPIRED');
      const expected = `slot ${first.slot} holds generation ${second.generation}.*` +
        `generation ${first.generation}`;
      assert.match(err.message, new RegExp(expected));
      return true;
    });
    assert.deepEqual(pool.read(second.slot, second.generation), Buffer.alloc(4, 2));
    pool.close();
  });

  it('skips pinned slots and drops the frame when every slot is pinned', () => {
    const pool = new addon.FramePool(16, 2);
    const pins = pool as unknown as Pinnable;
    const a = pool.write(Buffer.alloc(4, 1), 2, 2, 1);
    const b = pool.write(Buffer.alloc(4, 2), 2, 2, 1);
    assert.ok(a && b);
    assert.equal(pins.pin(a.slot, a.generation), true);
    const c = pool.write(Buffer.alloc(4, 3), 2, 2, 1);
    assert.equal(c?.slot, b.slot, 'the oldest slot is pinned, so the next one is used');
    assert.deepEqual(pool.read(a.slot, a.generation), Buffer.alloc(4, 1));
    assert.ok(c);
    assert.equal(pins.pin(c.slot, c.generation), true);
    assert.equal(pool.write(Buffer.alloc(4, 4), 2, 2, 1), null);
    assert.deepEqual(pool.counters(), { writes: 3, dropped: 1, pinned: 2 });
    pins.unpin(a.slot);
    assert.equal(pool.write(Buffer.alloc(4, 5), 2, 2, 1)?.slot, a.slot);
    assert.equal(pins.pin(a.slot, a.generation), false, 'a stale generation cannot be pinned');
    pool.close();
  });

  it('rejects pixel buffers whose length does not match the size, or that do not fit a slot', () => {
    const pool = new addon.FramePool(16, 1);
    const invalid = (fn: () => unknown): void =>
      assert.throws(fn, (err) => errorCode(err) === 'INVALID_INPUT');
    invalid(() => pool.write(Buffer.alloc(5), 2, 2, 1));
    invalid(() => pool.write(Buffer.alloc(27), 3, 3, 3));
    invalid(() => pool.write(new Float32Array(4) as unknown as Uint8Array, 2, 2, 1));
    invalid(() => pool.write(Buffer.alloc(4), -2, -2, 1));
    assert.deepEqual(pool.counters(), { writes: 0, dropped: 0, pinned: 0 });
    pool.close();
  });

  it('throws POOL_CLOSED after close', () => {
    const pool = new addon.FramePool(16, 1);
    pool.close();
    assert.throws(() => pool.write(Buffer.alloc(4), 2, 2, 1), (err) => errorCode(err) === 'POOL_CLOSED');
    assert.throws(() => pool.read(0, 1), (err) => errorCode(err) === 'POOL_CLOSED');
    assert.throws(() => pool.counters(), (err) => errorCode(err) === 'POOL_CLOSED');
  });
});

describe('native teach and inspect', () => {
  const W = 160;
  const H = 120;
  let reference: NativeReference;

  before(async () => {
    reference = await teach([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => bottleImage(W, H, seed)), W, H);
  });

  it('builds a reference of the taught size', () => {
    assert.equal(reference.width, W);
    assert.equal(reference.height, H);
    assert.equal(reference.channels, 3);
    assert.equal(reference.imageCount, 8);
  });

  it('finds a flaw where it is and nothing on a good image', async () => {
    const pool = new addon.FramePool(W * H * 3, 4);
    const inspector = new addon.Inspector(pool, 2, 4);
    const good = pool.write(bottleImage(W, H, 11), W, H, 3);
    const bad = pool.write(bottleImage(W, H, 12, { x: 70, y: 50, size: 16 }), W, H, 3);
    assert.ok(good && bad);
    const [g, b] = await Promise.all([
      inspectOnce(inspector, good.slot, good.generation, W, H, reference),
      inspectOnce(inspector, bad.slot, bad.generation, W, H, reference),
    ]);
    assert.equal(g.err, null);
    assert.deepEqual(g.result?.defects, []);
    assert.ok((g.result?.score ?? 9) < 1, `good score ${g.result?.score}`);
    assert.equal(b.err, null);
    const defects = b.result?.defects ?? [];
    assert.equal(defects.length, 1);
    const d = defects[0];
    const covers = d.x <= 72 && d.x + d.width >= 84 && d.y <= 52 && d.y + d.height >= 64;
    assert.ok(covers, `rect ${JSON.stringify(d)}`);
    assert.ok(d.areaPx >= 150 && d.areaPx <= 600, `area ${d.areaPx}`);
    assert.ok(d.severity >= 0.5 && d.severity <= 1 && d.confidence >= 0.5 && d.confidence <= 1);
    assert.ok((b.result?.score ?? 0) > 2);
    assert.ok((b.result?.inspectMs ?? -1) >= 0);
    assert.deepEqual(pool.counters().pinned, 0, 'pins are released after the jobs');
    assert.deepEqual(inspector.counters(), { queued: 2, completed: 2, failed: 0, rejected: 0 });
    inspector.close();
    pool.close();
  });

  it('calls back with FRAME_EXPIRED for a frame overwritten before its turn', async () => {
    const pool = new addon.FramePool(W * H * 3, 1);
    const inspector = new addon.Inspector(pool, 1, 4);
    const old = pool.write(bottleImage(W, H, 1), W, H, 3);
    assert.ok(old);
    pool.write(bottleImage(W, H, 2), W, H, 3);
    const { err } = await inspectOnce(inspector, old.slot, old.generation, W, H, reference);
    assert.equal(err?.code, 'FRAME_EXPIRED');
    assert.equal(inspector.counters().failed, 1);
    inspector.close();
    pool.close();
  });

  it('calls back with SIZE_MISMATCH when the frame and reference sizes differ', async () => {
    const pool = new addon.FramePool(W * H * 3, 1);
    const inspector = new addon.Inspector(pool, 1, 4);
    const small = pool.write(Buffer.alloc(80 * 60 * 3), 80, 60, 3);
    assert.ok(small);
    const { err } = await inspectOnce(inspector, small.slot, small.generation, 80, 60, reference);
    assert.equal(err?.code, 'SIZE_MISMATCH');
    assert.match(err?.message ?? '', /80x60x3.*160x120x3/);
    inspector.close();
    pool.close();
  });

  it('refuses jobs beyond the queue limit and counts them', async () => {
    const bigW = 1600;
    const bigH = 1200;
    const big = await teach([1, 2].map((s) => bottleImage(bigW, bigH, s)), bigW, bigH);
    const pool = new addon.FramePool(bigW * bigH * 3, 2);
    const inspector = new addon.Inspector(pool, 1, 1);
    const frame = pool.write(bottleImage(bigW, bigH, 3), bigW, bigH, 3);
    assert.ok(frame);
    const results: Promise<unknown>[] = [];
    let accepted = 0;
    const submits = 200;
    for (let i = 0; i < submits; i++) {
      let done: (v: unknown) => void = () => undefined;
      const p = new Promise((resolve) => (done = resolve));
      if (inspector.inspect(frame.slot, frame.generation, bigW, bigH, 3, big, OPTIONS, done as Callback)) {
        accepted++;
        results.push(p);
      }
    }
    // One job may run on the single thread and one wait; the rest are refused, unless the thread
    // finished some while the loop ran. 200 quick submits outpace 200 inspections by far, so many
    // are refused whatever the machine's load, and every one is either done or counted refused.
    assert.ok(accepted >= 1 && accepted < submits / 2, `accepted ${accepted}`);
    await Promise.all(results);
    assert.equal(inspector.counters().rejected, submits - accepted);
    assert.equal(inspector.counters().completed, accepted);
    inspector.close();
    pool.close();
  });

  it('answers queued jobs with CLOSED on close and refuses new ones', async () => {
    const pool = new addon.FramePool(W * H * 3, 2);
    const inspector = new addon.Inspector(pool, 1, 16);
    const frame = pool.write(bottleImage(W, H, 5), W, H, 3);
    assert.ok(frame);
    const codes = Array.from({ length: 8 }, () => new Promise<string | null>((resolve) => {
      inspector.inspect(frame.slot, frame.generation, W, H, 3, reference, OPTIONS,
        (err) => resolve(err?.code ?? null));
    }));
    inspector.close();
    const answered = await Promise.all(codes);
    const closed = answered.filter((c) => c === 'CLOSED').length;
    assert.ok(closed >= 7 - 1, `closed ${closed} of ${answered.join(',')}`);
    assert.ok(answered.every((c) => c === null || c === 'CLOSED'));
    const again = (): boolean =>
      inspector.inspect(frame.slot, frame.generation, W, H, 3, reference, OPTIONS, () => undefined);
    assert.throws(again, (err) => errorCode(err) === 'CLOSED');
    assert.equal(pool.counters().pinned, 0);
    pool.close();
  });

  it('reports an error with a code when teach images differ in size', async () => {
    const err = await new Promise<Error | null>((resolve) => {
      addon.teach([
        { pixels: bottleImage(W, H, 1), width: W, height: H, channels: 3 },
        { pixels: bottleImage(80, 60, 1), width: 80, height: 60, channels: 3 },
      ], { workSize: 64 }, (e) => resolve(e));
    });
    assert.equal(errorCode(err), 'SIZE_MISMATCH');
  });
});

describe('native reference serialisation', () => {
  const W = 120;
  const H = 90;

  it('round-trips to identical bytes and identical inspection results', async () => {
    const reference = await teach([1, 2, 3, 4].map((s) => bottleImage(W, H, s)), W, H);
    const data = reference.serialize();
    assert.equal(data.subarray(0, 4).toString('latin1'), 'BIRF');
    const restored = addon.deserializeReference(data);
    assert.deepEqual(restored.serialize(), data);
    assert.deepEqual([restored.width, restored.height, restored.channels, restored.imageCount], [W, H, 3, 4]);

    const pool = new addon.FramePool(W * H * 3, 2);
    const inspector = new addon.Inspector(pool, 2, 4);
    const frame = pool.write(bottleImage(W, H, 9, { x: 40, y: 30, size: 12 }), W, H, 3);
    assert.ok(frame);
    const [a, b] = await Promise.all([
      inspectOnce(inspector, frame.slot, frame.generation, W, H, reference),
      inspectOnce(inspector, frame.slot, frame.generation, W, H, restored),
    ]);
    assert.ok(a.result && b.result);
    assert.ok(a.result.defects.length > 0);
    assert.deepEqual(b.result.defects, a.result.defects);
    assert.equal(b.result.score, a.result.score);
    inspector.close();
    pool.close();
  });

  it('rejects foreign, truncated and corrupted data with INVALID_INPUT', async () => {
    const data = (await teach([1, 2].map((s) => bottleImage(W, H, s)), W, H)).serialize();
    const corrupted = Buffer.from(data);
    corrupted[corrupted.length >> 1] ^= 0xff;
    const foreign = Buffer.from('not a reference at all, just text');
    for (const bad of [foreign, data.subarray(0, data.length - 9), corrupted]) {
      assert.throws(() => addon.deserializeReference(bad), (err) => errorCode(err) === 'INVALID_INPUT');
    }
  });
});

describe('native inspector lifetime', () => {
  /** Runs a script in a fresh Node process and resolves with its exit code (it must exit by itself). */
  function runScript(source: string): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', source], { cwd: path.resolve(__dirname, '..', '..') });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout }));
    });
  }

  const script = (closeIt: boolean): string => `
    const { loadNative } = require('./dist/lib/native');
    const addon = loadNative();
    const px = Buffer.alloc(64 * 48 * 3, 90);
    addon.teach([{ pixels: px, width: 64, height: 48, channels: 3 }], { workSize: 64 }, (err, ref) => {
      const pool = new addon.FramePool(px.length, 2);
      const inspector = new addon.Inspector(pool, 2, 4);
      const f = pool.write(px, 64, 48, 3);
      const options = { threshold: 3, minAreaPx: 10, maxShift: 0.1 };
      inspector.inspect(f.slot, f.generation, 64, 48, 3, ref, options, (e, r) => {
        process.stdout.write(e ? 'error ' + e.code : 'score ' + r.score);
        ${closeIt ? 'inspector.close(); pool.close();' : ''}
      });
    });`;

  it('does not keep the process alive once idle, even if never closed', async () => {
    const { code, stdout } = await runScript(script(false));
    assert.equal(code, 0);
    assert.match(stdout, /^score /);
  });

  it('lets the process exit after close', async () => {
    const { code, stdout } = await runScript(script(true));
    assert.equal(code, 0);
    assert.match(stdout, /^score /);
  });
});
