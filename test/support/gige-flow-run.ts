/**
 * Run by test/gige-flow.test.ts inside a network namespace of its own (test/support/netns.ts).
 * Starts the line simulator with two fake GigE Vision cameras (1600x1200 Mono8, 28 fps, free
 * running), loads a flow whose gige-camera nodes take their frames from them in
 * node-red-node-test-helper, lets the line run 40 bottles, then loads a flow with two badly set up
 * cameras. Prints one JSON object with what it saw on its last stdout line.
 *
 * Never run it outside a namespace: the fake cameras answer GigE Vision discovery broadcasts.
 *
 *   node gige-flow-run.js TOP_FOLDER SIDE_FOLDER TEACH_DIR
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';

import type { Line } from '../../lib/line/line';
import type { CameraSource } from '../../lib/camera/source';
import type { Bottle } from '../../lib/tracking/tracker';
import { errorMessage } from '../../lib/util/errors';
import type { NodeMessage } from '../../nodes/shared/red';
import { repoRoot } from './images';
import { allNodes } from './nodes';
import { waitFor } from './wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hooks } = require('@node-red/util') as { hooks: { add(id: string, fn: (e: unknown) => void): void; remove(id: string): void } };

export const SIZE = { width: 1600, height: 1200 };
export const FPS = 28;
export const BOTTLES = 40;
const TOP = { address: '127.0.0.2', serial: 'TOP01' };
const SIDE = { address: '127.0.0.3', serial: 'SIDE01' };
/** The whole run, simulator start included, must end well inside the outer test's limit. */
const RUN_LIMIT_MS = 90_000;

const results: Record<string, unknown> = {};
let sim: ChildProcess | undefined;

function startSim(top: string, side: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [
    path.join(repoRoot, 'dist', 'tools', 'line-sim.js'),
    '--camera', `${TOP.address}:${TOP.serial}:${top}`, '--camera', `${SIDE.address}:${SIDE.serial}:${side}`,
    '--size', `${SIZE.width}x${SIZE.height}`, '--fps', String(FPS), '--trigger', 'continuous',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  sim = child;
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator not ready in 40 s: ${err}`)), 40_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if ((out.match(/^line-sim: camera/gm) ?? []).length >= 2) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`simulator exited ${code}: ${err}`)); });
  });
}

async function stopSim(): Promise<void> {
  const child = sim;
  sim = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

type Spied = { getCalls(): { thisValue: { id: string }; args: unknown[] }[] };

function callsOf(id: string, method: 'status' | 'error' | 'warn'): unknown[][] {
  const n = helper.getNode(id) as unknown as Record<string, Spied> | null;
  if (!n) throw new Error(`node ${id} is not loaded`);
  return n[method].getCalls().filter((c) => c.thisValue.id === id).map((c) => c.args);
}
const statuses = (id: string) => callsOf(id, 'status').map((a) => a[0] as { fill?: string; text?: string });
const texts = (id: string, method: 'error' | 'warn') => callsOf(id, method).map((a) => String(a[0]));

function collect(id: string): NodeMessage[] {
  const out: NodeMessage[] = [];
  (helper.getNode(id) as unknown as { on(e: string, fn: (m: NodeMessage) => void): void }).on('input', (m) => out.push(m));
  return out;
}

function lineOf(id: string): Line {
  const line = (helper.getNode(id) as unknown as { line?: Line } | null)?.line;
  if (!line) throw new Error(`line ${id} was not built`);
  return line;
}

/** Line, two GigE cameras by serial, an inspect each taught at 1600x1200, classify, collectors. */
function goodFlow(teachDir: string): Record<string, unknown>[] {
  const camera = { type: 'gige-camera', line: 'line-1', source: 'gige', cameraBy: 'serial', pixelFormat: 'Mono8',
    width: String(SIZE.width), height: String(SIZE.height), frameRate: String(FPS), triggerMode: 'continuous',
    frameTimeoutMs: '300' };
  const inspect = { type: 'inspect', line: 'line-1', width: String(SIZE.width), height: String(SIZE.height) };
  return [
    { id: 'line-1', type: 'line', name: 'gige line', positions: 'top,left', triggerRateHz: '10', maxBottles: String(BOTTLES),
      conveyorSpeedMps: '2', cameraToRejectMm: '1000', actuatorLeadMs: '30', poolSlots: '64', inspectionThreads: '0' },
    { id: 'cam-top', ...camera, position: 'top', camera: TOP.serial, wires: [['inspect-top', 'out-frames']] },
    { id: 'cam-side', ...camera, position: 'left', camera: SIDE.serial, wires: [['inspect-side', 'out-frames']] },
    { id: 'inspect-top', ...inspect, teachFolder: path.join(teachDir, 'top_view'), wires: [['classify-1', 'out-inspections']] },
    { id: 'inspect-side', ...inspect, teachFolder: path.join(teachDir, 'side_view_juice'), wires: [['classify-1', 'out-inspections']] },
    { id: 'classify-1', type: 'classify', line: 'line-1', sensitivity: '0.5', minConfidence: '0.5', maxDefects: '0',
      wires: [['out-verdicts']] },
    { id: 'out-frames', type: 'helper' },
    { id: 'out-inspections', type: 'helper' },
    { id: 'out-verdicts', type: 'helper' },
  ];
}

async function goodCase(teachDir: string): Promise<void> {
  const frameSizes: number[] = [];
  hooks.add('onSend.gigeFrameSize', (events: unknown) => {
    for (const e of events as { source: { node: { type: string } }; msg: unknown }[]) {
      if (e.source?.node?.type === 'gige-camera') frameSizes.push(Buffer.byteLength(JSON.stringify(e.msg)));
    }
  });
  try {
    await helper.load(allNodes, goodFlow(teachDir));
    const frames = collect('out-frames');
    const verdicts = collect('out-verdicts');
    const line = lineOf('line-1');
    const missed: Record<string, string[]> = { 'cam-top': [], 'cam-side': [] };
    line.on('missed', (camera: CameraSource, bottle: Bottle, reason: string) => {
      (missed[camera.id] ??= []).push(`#${bottle.id}: ${reason}`);
    });
    const t0 = Date.now();
    await waitFor(`${BOTTLES} bottles settled`, () => line.state === 'finished' && line.tracker.counters().open === 0, 45_000);
    await waitFor(`${BOTTLES} verdicts`, () => verdicts.length >= BOTTLES, 5_000).catch(() => undefined);
    const cameras = Object.fromEntries(line.cameraList().map((c) => [c.id, c.counters()]));
    results.good = {
      elapsedMs: Date.now() - t0,
      lineState: line.state,
      tracker: line.tracker.counters(),
      verdictIds: verdicts.map((m) => m.bottleId),
      verdictKinds: verdicts.map((m) => m.payload),
      framesPerCamera: {
        'cam-top': frames.filter((m) => m.topic === 'top').length,
        'cam-side': frames.filter((m) => m.topic === 'left').length,
      },
      frameBottleIds: {
        'cam-top': frames.filter((m) => m.topic === 'top').map((m) => m.bottleId),
        'cam-side': frames.filter((m) => m.topic === 'left').map((m) => m.bottleId),
      },
      firstFrame: frames[0]?.frame,
      missed,
      cameras,
      frameSizes: { count: frameSizes.length, max: Math.max(0, ...frameSizes) },
      statuses: { 'cam-top': statuses('cam-top'), 'cam-side': statuses('cam-side') },
      warnings: { 'cam-top': texts('cam-top', 'warn'), 'cam-side': texts('cam-side', 'warn') },
      errors: { 'cam-top': texts('cam-top', 'error'), 'cam-side': texts('cam-side', 'error') },
    };
    results.lost = await lostCase();
  } finally {
    hooks.remove('onSend.gigeFrameSize');
    await helper.unload();
  }
  // Every camera was released on close: a new node can open the same camera at once.
  results.releasedAfterClose = await reopenable();
}

/** The simulator binary itself (line-sim.js runs it as its only child). */
function simBinaryPid(): number {
  const pid = sim?.pid;
  if (pid === undefined) throw new Error('simulator not running');
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (children.length !== 1) throw new Error(`expected one simulator process under ${pid}, found ${children.join(', ') || 'none'}`);
  return Number(children[0]);
}

/**
 * Freezes the simulator (SIGSTOP) while the cameras stream: each camera node must turn red with
 * "camera lost" within about 2 s, and green again once the simulator runs on and the camera is
 * reopened.
 */
async function lostCase(): Promise<Record<string, unknown>> {
  const pid = simBinaryPid();
  const before = statuses('cam-top').length;
  const since = (id: string) => statuses(id).slice(before);
  process.kill(pid, 'SIGSTOP');
  const stoppedAt = Date.now();
  let lostAfterMs = -1;
  let restoredAfterMs = -1;
  try {
    await waitFor('a red "camera lost" status', () => since('cam-top').some((s) => s.fill === 'red'), 5_000);
    lostAfterMs = Date.now() - stoppedAt;
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const resumedAt = Date.now();
  await waitFor('the camera to be restored', () => {
    const after = since('cam-top');
    const red = after.findIndex((s) => s.fill === 'red');
    return red >= 0 && after.slice(red + 1).some((s) => s.fill === 'green');
  }, 20_000);
  restoredAfterMs = Date.now() - resumedAt;
  return {
    lostAfterMs, restoredAfterMs, statuses: since('cam-top').filter((s) => s.fill !== 'green' || !/frames/.test(s.text ?? '')),
    warnings: texts('cam-top', 'warn'),
  };
}

/** Opens TOP01 again with the native camera right after the flow closed: fails if it is still held. */
async function reopenable(): Promise<boolean | string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadNative } = require('../../lib/native') as typeof import('../../lib/native');
  const cam = new (loadNative().GigeCamera)(() => undefined);
  const call = <T>(fn: (cb: (err: Error | null, v: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
  try {
    await call((cb) => cam.open({ serial: TOP.serial }, cb));
    return true;
  } catch (err) {
    return errorMessage(err);
  } finally {
    await call((cb) => cam.close(cb)).catch(() => undefined);
  }
}

/** A camera with width 0 and a camera nobody has, on a line of their own. */
async function badCase(): Promise<void> {
  await helper.load(allNodes, [
    { id: 'line-bad', type: 'line', positions: 'top,left', triggerRateHz: '10', maxBottles: '5', poolSlots: '16' },
    { id: 'cam-width0', type: 'gige-camera', line: 'line-bad', source: 'gige', position: 'top', cameraBy: 'serial',
      camera: TOP.serial, width: '0', wires: [[]] },
    { id: 'cam-ghost', type: 'gige-camera', line: 'line-bad', source: 'gige', position: 'left', cameraBy: 'serial',
      camera: 'NOPE99', wires: [[]] },
  ]);
  try {
    const line = lineOf('line-bad');
    await waitFor('the ghost camera to give up', () => statuses('cam-ghost').some((s) => s.fill === 'red'), 20_000);
    await waitFor('the line to refuse to start', () => line.state === 'error', 5_000).catch(() => undefined);
    results.bad = {
      width0: { statuses: statuses('cam-width0'), errors: texts('cam-width0', 'error') },
      ghost: { statuses: statuses('cam-ghost'), errors: texts('cam-ghost', 'error') },
      line: { state: line.state, triggered: line.bottlesTriggered, errors: texts('line-bad', 'error') },
    };
  } finally {
    await helper.unload();
  }
}

async function main(): Promise<void> {
  const [top, side, teachDir] = process.argv.slice(2) as [string, string, string];
  const limit = setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ ...results, fatal: `run took over ${RUN_LIMIT_MS} ms` })}\n`);
    void stopSim().finally(() => process.exit(2));
  }, RUN_LIMIT_MS);
  const t0 = Date.now();
  helper.init(require.resolve('node-red'));
  try {
    await startSim(top, side);
    results.simReadyMs = Date.now() - t0;
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    try {
      for (const [name, step] of [['good', () => goodCase(teachDir)], ['bad', badCase]] as const) {
        try { await step(); } catch (err) { results[`${name}Error`] = errorMessage(err); }
      }
    } finally {
      await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    }
  } finally {
    await stopSim();
    clearTimeout(limit);
  }
  results.totalMs = Date.now() - t0;
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stdout.write(`${JSON.stringify({ ...results, fatal: errorMessage(err) })}\n`);
  void stopSim().finally(() => process.exit(1));
});
