/**
 * Run by test/gige.test.ts inside a network namespace (test/support/netns.ts): starts the line
 * simulator with two fake cameras, exercises the native GigE camera and GigeSource against them
 * and prints one JSON object with what it saw on its last stdout line. Never run it outside a
 * namespace: the fake cameras answer discovery broadcasts.
 *
 *   node gige-probe.js TOP_FOLDER SIDE_FOLDER
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { GigeSource } from '../../lib/camera/gige';
import { FramePool } from '../../lib/frames/frame-pool';
import type { FrameRef } from '../../lib/frames/frame-ref';
import { loadNative } from '../../lib/native';
import type { NativeGigeCamera, NativeGigeEvent } from '../../lib/native/types';
import type { Bottle } from '../../lib/tracking/tracker';
import { errorMessage } from '../../lib/util/errors';
import { loadFrames } from '../../tools/line-sim';
import { repoRoot } from './images';

export const SIZE = { width: 1600, height: 1200 };
export const FPS = 28;
export const TOP = { address: '127.0.0.2', serial: 'TOP01' };
export const SIDE = { address: '127.0.0.3', serial: 'SIDE01' };
const STREAM_MS = 4000;

const results: Record<string, unknown> = {};
const addon = loadNative();

function call<T>(fn: (cb: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const count = (dir: string): number => fs.readdirSync(dir).length;

async function startSim(top: string, side: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [
    path.join(repoRoot, 'dist', 'tools', 'line-sim.js'),
    '--camera', `${TOP.address}:${TOP.serial}:${top}`, '--camera', `${SIDE.address}:${SIDE.serial}:${side}`,
    '--size', `${SIZE.width}x${SIZE.height}`, '--fps', String(FPS),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator not ready in 60 s: ${err}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if ((out.match(/^line-sim: camera/gm) ?? []).length >= 2) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`simulator exited ${code}: ${err}`)); });
  });
  return { child, stderr: () => err };
}

async function configureCase(): Promise<void> {
  const cam = new addon.GigeCamera(() => undefined);
  const info = await call<Record<string, unknown>>((cb) => cam.open({ serial: SIDE.serial }, cb));
  const requested = {
    pixelFormat: 'Mono16', width: 800, height: 600, offsetX: 16, offsetY: 8, exposureUs: 5000,
    gain: 3, frameRate: 20, triggerMode: 'software' as const, packetSize: 8192, packetDelayNs: 0,
  };
  const accepted = await call((cb) => cam.configure(requested, cb));
  const invalid: Record<string, { code?: string; message: string }> = {};
  const bad: Record<string, object> = {
    width0: { width: 0 }, pixelFormat: { pixelFormat: 'Mono12Foo' }, exposure: { exposureUs: 1 },
    edge: { triggerMode: 'hardware', triggerLine: 'Line0', triggerEdge: 'falling' },
    packetMtu: { packetSize: 70000 }, line: { triggerMode: 'hardware', triggerLine: 'Line7' },
  };
  for (const [name, features] of Object.entries(bad)) {
    try {
      await call((cb) => cam.configure(features, cb));
      invalid[name] = { message: 'accepted' };
    } catch (err) {
      invalid[name] = { code: (err as { code?: string }).code, message: errorMessage(err) };
    }
  }
  const restored = await call((cb) => cam.configure({
    pixelFormat: 'Mono8', width: SIZE.width, height: SIZE.height, offsetX: 0, offsetY: 0,
    frameRate: FPS, triggerMode: 'continuous',
  }, cb));
  await call((cb) => cam.close(cb));
  results.configure = { info, requested, accepted, invalid, restored };
}

async function streamCase(expected: string[]): Promise<void> {
  const pool = new FramePool('probe', SIZE.width * SIZE.height, 16);
  let frames = 0;
  let mismatches = 0;
  let sizeErrors = 0;
  const firstMismatch: string[] = [];
  let lastTs = 0;
  const cam: NativeGigeCamera = new addon.GigeCamera((e: NativeGigeEvent) => {
    if (e.type !== 'frame') return;
    frames++;
    if (e.width !== SIZE.width || e.height !== SIZE.height || e.bytesPerPixel !== 1) sizeErrors++;
    if (e.timestampNs <= lastTs) mismatches++;
    lastTs = e.timestampNs;
    const pixels = pool.native.read(e.slot, e.generation);
    const sha = createHash('sha256').update(pixels).digest('hex');
    if (sha !== expected[e.frameId % expected.length]) {
      mismatches++;
      if (firstMismatch.length < 3) firstMismatch.push(`frame ${e.frameId}`);
    }
  });
  await call((cb) => cam.open({ serial: TOP.serial }, cb));
  const accepted = await call((cb) => cam.configure({ pixelFormat: 'Mono8', frameRate: FPS, triggerMode: 'continuous', packetSize: 8192 }, cb));
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await call((cb) => cam.start(pool.native, 4, cb));
  await sleep(STREAM_MS);
  await call((cb) => cam.stop(cb));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = Date.now() - t0;
  const counters = cam.counters();
  await call((cb) => cam.close(cb));
  const poolCounters = { ...pool.counters(), held: pool.native.heldSlots };
  pool.close();
  results.stream = {
    accepted, frames, mismatches, sizeErrors, firstMismatch, counters, elapsedMs: elapsed,
    cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / Math.max(1, frames), poolCounters,
  };
}

async function sourceCase(): Promise<void> {
  const pool = new FramePool('probe-line', SIZE.width * SIZE.height, 16);
  const source = new GigeSource({
    id: 'cam-side', position: 'top', camera: { serial: SIDE.serial },
    features: { pixelFormat: 'Mono8', frameRate: FPS, triggerMode: 'continuous' }, frameTimeoutMs: 200,
  });
  const got: FrameRef[] = [];
  const missed: string[] = [];
  source.onFrame = (f) => got.push(f);
  source.onMissed = (_b, reason) => missed.push(reason);
  await source.ready();
  source.attach(pool);
  await sleep(500);
  for (let i = 1; i <= 10; i++) {
    const bottle = { id: i, triggerTimeMs: Date.now() } as unknown as Bottle;
    source.capture(bottle, pool);
    await sleep(100);
  }
  await sleep(300);
  const counters = source.counters();
  const bottleIds = got.map((f) => f.bottleId);
  const valid = got.filter((f) => pool.isValid(f)).length;
  await source.close();
  await source.close();
  let notFound = '';
  const ghost = new GigeSource({ id: 'ghost', position: 'left', camera: { serial: 'NOPE99' } });
  try { await ghost.ready(); } catch (err) { notFound = errorMessage(err); }
  await ghost.close();
  pool.close();
  results.source = { bottleIds, missed, counters, valid, notFound };
}

async function reopenCase(): Promise<void> {
  const pool = new FramePool('probe-reopen', SIZE.width * SIZE.height, 8);
  const cycle = async (): Promise<void> => {
    const cam = new addon.GigeCamera(() => undefined);
    await call((cb) => cam.open({ address: SIDE.address }, cb));
    await call((cb) => cam.start(pool.native, 4, cb));
    await sleep(100);
    await call((cb) => cam.close(cb));
    await call((cb) => cam.close(cb));
  };
  await cycle();
  global.gc?.();
  const before = { threads: count('/proc/self/task'), fds: count('/proc/self/fd'), held: pool.native.heldSlots };
  for (let i = 0; i < 10; i++) await cycle();
  await sleep(200);
  global.gc?.();
  const after = { threads: count('/proc/self/task'), fds: count('/proc/self/fd'), held: pool.native.heldSlots };
  pool.close();
  results.reopen = { before, after };
}

async function main(): Promise<void> {
  const [top, side] = process.argv.slice(2) as [string, string];
  const expected = (await loadFrames(top, SIZE)).frames.map((f) => createHash('sha256').update(f).digest('hex'));
  const sim = await startSim(top, side);
  try {
    results.discovery = await call((cb) => addon.discover(cb));
    for (const [name, step] of [['configure', configureCase], ['stream', () => streamCase(expected)],
      ['source', sourceCase], ['reopen', reopenCase]] as const) {
      try { await step(); } catch (err) { results[`${name}Error`] = errorMessage(err); }
    }
  } finally {
    sim.child.kill('SIGTERM');
    await new Promise((r) => sim.child.once('exit', r));
  }
  const sent = /camera TOP01 sent (\d+) frames/.exec(sim.stderr());
  results.topSent = sent ? Number(sent[1]) : -1;
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stdout.write(`${JSON.stringify({ ...results, fatal: errorMessage(err) })}\n`);
  process.exit(1);
});
