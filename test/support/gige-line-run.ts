/**
 * Run by test/gige-line.test.ts inside a network namespace of its own (test/support/netns.ts),
 * once per case: `stream`, `restart` or `redeploy`. Starts the line simulator binary
 * (sim/build/line-sim) itself, one process per group of cameras, on frame files it writes with
 * tools/line-sim.ts, runs a Node-RED flow with gige-camera nodes against them in
 * node-red-node-test-helper and prints one JSON object with what it saw on its last stdout line.
 * Its first stderr line is `NETNS <inode>`, so the test can kill whatever it leaves in the
 * namespace if it dies.
 *
 * Never run it outside a namespace: the fake cameras answer GigE Vision discovery broadcasts.
 *
 *   node gige-line-run.js stream|restart|redeploy IMAGES_DIR [SECONDS]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';

import type { GigeFrameRef, GigeSource, GigeSourceCounters } from '../../lib/camera/gige';
import type { CameraPosition } from '../../lib/frames/frame-ref';
import type { Line } from '../../lib/line/line';
import { errorCode, errorMessage } from '../../lib/util/errors';
import type { NodeMessage } from '../../nodes/shared/red';
import { defaultSimBinary, loadFrames, writeFrameFile } from '../../tools/line-sim';
import { allNodes } from './nodes';
import { waitFor } from './wait';

export const SIZE = { width: 1600, height: 1200 };
export const FPS = 28;

interface Cam { pos: CameraPosition; address: string; serial: string; folder: string }
export const CAMERAS: Cam[] = [
  { pos: 'top', address: '127.0.0.1', serial: 'TOP01', folder: 'top_view' },
  { pos: 'bottom', address: '127.0.0.2', serial: 'BOT01', folder: 'top_view' },
  { pos: 'left', address: '127.0.0.3', serial: 'LEFT01', folder: 'side_view_juice' },
  { pos: 'right', address: '127.0.0.4', serial: 'RIGHT01', folder: 'side_view_juice' },
];
const RUN_LIMIT_MS = Number(process.env.BOTTLE_GIGE_RUN_LIMIT_MS ?? 150_000);

const results: Record<string, unknown> = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gige-line-'));
const expected = new Map<string, string[]>();
const sims = new Set<Sim>();

// ---------------------------------------------------------------------------------------------
// Simulator processes

interface Sim { child: ChildProcess; serials: string[]; stderr: () => string }

/** Writes each camera's frame file once and remembers the SHA-256 of every frame. */
async function prepare(images: string, cams: Cam[]): Promise<void> {
  for (const cam of cams) {
    const set = await loadFrames(path.join(images, cam.folder), SIZE);
    await writeFrameFile(path.join(tmp, `${cam.serial}.frames`), set);
    expected.set(cam.serial, set.frames.map((f) => createHash('sha256').update(f).digest('hex')));
  }
}

/** One simulator process serving `cams`; resolves once every camera serves. */
function startSim(cams: Cam[]): Promise<Sim> {
  const args = cams.flatMap((c) => ['--camera', `${c.address}:${c.serial}:${path.join(tmp, `${c.serial}.frames`)}`]);
  const child = spawn(defaultSimBinary(), [...args, '--fps', String(FPS), '--trigger', 'continuous'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const sim: Sim = { child, serials: cams.map((c) => c.serial), stderr: () => err };
  sims.add(sim);
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  child.on('exit', () => sims.delete(sim));
  return new Promise<Sim>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator not ready in 20 s: ${err}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if ((out.match(/^line-sim: camera/gm) ?? []).length >= cams.length) { clearTimeout(timer); resolve(sim); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`simulator exited ${code}: ${err}`)); });
  });
}

/** SIGTERM, wait for the exit, return what each camera says it sent. */
async function stopSim(sim: Sim): Promise<Record<string, number>> {
  const { child } = sim;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const sent: Record<string, number> = {};
  for (const m of sim.stderr().matchAll(/camera (\S+) sent (\d+) frames/g)) sent[m[1] as string] = Number(m[2]);
  return sent;
}

function killAllSims(): void {
  for (const s of sims) s.child.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// Flow

type Spied = { getCalls(): { thisValue: { id: string }; args: unknown[] }[] };
type Status = { fill?: string; text?: string };

function statuses(id: string): Status[] {
  const n = helper.getNode(id) as unknown as Record<string, Spied> | null;
  if (!n) throw new Error(`node ${id} is not loaded`);
  return n.status.getCalls().filter((c) => c.thisValue.id === id).map((c) => c.args[0] as Status);
}

function onInput(id: string, fn: (m: NodeMessage) => void): void {
  (helper.getNode(id) as unknown as { on(e: string, f: (m: NodeMessage) => void): void }).on('input', fn);
}

function lineOf(id: string): Line {
  const line = (helper.getNode(id) as unknown as { line?: Line } | null)?.line;
  if (!line) throw new Error(`line ${id} was not built`);
  return line;
}

interface FlowOptions { cams: Cam[]; rate: number; bottles: number; inspect: boolean; images: string }

/** A line, one gige-camera per camera wired to a check helper (and inspect → classify). */
function flow(o: FlowOptions): Record<string, unknown>[] {
  const nodes: Record<string, unknown>[] = [
    { id: 'line-1', type: 'line', positions: o.cams.map((c) => c.pos).join(','), triggerRateHz: String(o.rate),
      maxBottles: String(o.bottles), conveyorSpeedMps: '2', cameraToRejectMm: '2000', actuatorLeadMs: '30',
      poolSlots: '128', inspectionThreads: '0' },
  ];
  for (const c of o.cams) {
    nodes.push({
      id: `cam-${c.pos}`, type: 'gige-camera', line: 'line-1', source: 'gige', position: c.pos, cameraBy: 'serial',
      camera: c.serial, pixelFormat: 'Mono8', width: String(SIZE.width), height: String(SIZE.height),
      frameRate: String(FPS), triggerMode: 'continuous', frameTimeoutMs: '300',
      wires: [[`check-${c.pos}`, ...(o.inspect ? [`inspect-${c.pos}`] : [])]],
    }, { id: `check-${c.pos}`, type: 'helper' });
    if (o.inspect) {
      nodes.push({ id: `inspect-${c.pos}`, type: 'inspect', line: 'line-1', width: String(SIZE.width),
        height: String(SIZE.height), teachFolder: path.join(o.images, 'teach', c.folder), wires: [['classify-1']] });
    }
  }
  if (o.inspect) {
    nodes.push({ id: 'classify-1', type: 'classify', line: 'line-1', sensitivity: '0.5', minConfidence: '0.5',
      maxDefects: '0', wires: [['out-verdicts']] }, { id: 'out-verdicts', type: 'helper' });
  }
  return nodes;
}

interface Check { delivered: number; ok: number; mismatch: number; expired: number; noFrameId: number;
  readErrors: string[]; lastAtMs: number; bottleIds: number[] }

/** Reads every frame the moment it reaches the check helper and compares it with its source. */
function checkFrames(line: Line, cams: Cam[]): Record<string, Check> {
  const out: Record<string, Check> = {};
  for (const c of cams) {
    const check: Check = { delivered: 0, ok: 0, mismatch: 0, expired: 0, noFrameId: 0, readErrors: [], lastAtMs: 0, bottleIds: [] };
    out[c.serial] = check;
    const want = expected.get(c.serial) ?? [];
    onInput(`check-${c.pos}`, (m) => {
      check.delivered++;
      check.lastAtMs = Date.now();
      const frame = m.frame as GigeFrameRef;
      check.bottleIds.push(frame.bottleId);
      let pixels: Buffer;
      try {
        pixels = line.pool!.read(frame);
      } catch (err) {
        if (errorCode(err) === 'FRAME_EXPIRED') check.expired++;
        else if (check.readErrors.length < 3) check.readErrors.push(errorMessage(err));
        return;
      }
      if (typeof frame.frameId !== 'number') { check.noFrameId++; return; }
      const sha = createHash('sha256').update(pixels).digest('hex');
      if (sha === want[frame.frameId % want.length]) check.ok++;
      else check.mismatch++;
    });
  }
  return out;
}

const pick = (c: GigeSourceCounters) => ({
  triggers: c.triggers, frames: c.frames, missed: c.missed, unclaimed: c.unclaimed, completed: c.completed,
  incomplete: c.incomplete, nonMonotonic: c.nonMonotonic, skippedFrames: c.skippedFrames, timedOut: c.timedOut,
  underruns: c.underruns, lost: c.lost, restored: c.restored,
});

// ---------------------------------------------------------------------------------------------
// Cases

/** Four cameras, inspect and classify, BOTTLE_GIGE_SECONDS of bottles at 28/s. */
async function streamCase(images: string, seconds: number): Promise<void> {
  const bottles = Math.round(FPS * seconds);
  const sim = await startSim(CAMERAS);
  let sent: Record<string, number> = {};
  try {
    await helper.load(allNodes, flow({ cams: CAMERAS, rate: FPS, bottles, inspect: true, images }));
    const line = lineOf('line-1');
    const checks = checkFrames(line, CAMERAS);
    const verdicts: NodeMessage[] = [];
    onInput('out-verdicts', (m) => verdicts.push(m));
    const sources = new Map<string, GigeSource>();
    const t0 = Date.now();
    await waitFor('the line to start', () => line.state === 'running' || line.state === 'error', 40_000);
    const startedMs = Date.now() - t0;
    for (const c of line.cameraList()) sources.set(c.id, c as GigeSource);
    await waitFor(`${bottles} bottles settled`, () => line.state === 'finished' && line.tracker.counters().open === 0,
      seconds * 1000 + 20_000);
    await waitFor(`${bottles} verdicts`, () => verdicts.length >= bottles, 5_000).catch(() => undefined);
    const runMs = Date.now() - t0 - startedMs;
    const tracker = line.tracker.counters();
    const verdictIds = verdicts.map((m) => m.bottleId as number);
    const kinds: Record<string, number> = {};
    for (const m of verdicts) kinds[String(m.payload)] = (kinds[String(m.payload)] ?? 0) + 1;
    await helper.unload();
    sent = await stopSim(sim);
    const cameras: Record<string, unknown> = {};
    for (const c of CAMERAS) {
      const s = sources.get(`cam-${c.pos}`);
      const { bottleIds, ...check } = checks[c.serial] as Check;
      cameras[c.serial] = { sent: sent[c.serial] ?? -1, ...check, duplicateBottles: bottleIds.length - new Set(bottleIds).size,
        ...(s ? pick(s.counters()) : {}) };
    }
    results.stream = { bottles, startedMs, runMs, triggered: line.bottlesTriggered, tracker, verdicts: verdicts.length,
      uniqueVerdicts: new Set(verdictIds).size, verdictIdsOk: verdictIds.every((id) => id >= 1 && id <= bottles),
      kinds, cameras };
  } finally {
    await helper.unload().catch(() => undefined);
    await stopSim(sim);
  }
}

/**
 * Two cameras, each in its own simulator process. The top one is killed (SIGKILL) mid-run and
 * started again 3 s later: its node must turn red within 2 s, every bottle in the gap must be
 * uncertain, and frames must flow again within 5 s of the restart.
 */
async function restartCase(images: string): Promise<void> {
  const [top, left] = [CAMERAS[0], CAMERAS[2]] as [Cam, Cam];
  const cams = [top, left];
  const rate = 10;
  const bottles = 150;
  let topSim = await startSim([top]);
  const leftSim = await startSim([left]);
  try {
    await helper.load(allNodes, flow({ cams, rate, bottles, inspect: true, images }));
    const line = lineOf('line-1');
    const checks = checkFrames(line, cams);
    const verdicts = new Map<number, { kind: string; reason: string; at: number }>();
    let verdictCount = 0;
    onInput('out-verdicts', (m) => {
      verdictCount++;
      const v = m.verdict as { verdict: string; reason?: string; reasonCode?: number } | undefined;
      verdicts.set(m.bottleId as number, { kind: String(m.payload), reason: String(v?.reason ?? ''), at: Date.now() });
    });
    const triggeredAt = new Map<number, number>();
    line.on('bottle', (b: { id: number }) => triggeredAt.set(b.id, Date.now()));
    await waitFor('the line to start', () => line.state === 'running' || line.state === 'error', 40_000);
    const topCheck = checks[top.serial] as Check;
    await waitFor('40 top frames before the kill', () => topCheck.delivered >= 40, 20_000);
    const before = statuses('cam-top').length;
    const since = () => statuses('cam-top').slice(before);

    const killedAt = Date.now();
    topSim.child.kill('SIGKILL');
    await waitFor('a red status after the kill', () => since().some((s) => s.fill === 'red'), 5_000);
    const redAfterMs = Date.now() - killedAt;
    const redText = since().find((s) => s.fill === 'red')?.text;
    // Keep it dead for a while, so that a run of bottles is triggered with the camera gone.
    await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - killedAt))));
    const lastBeforeRestart = line.bottlesTriggered;
    topSim = await startSim([top]);
    const restartedAt = Date.now();
    const framesAtRestart = topCheck.delivered;
    await waitFor('green again and top frames flowing', () => {
      const after = since();
      const red = after.findIndex((s) => s.fill === 'red');
      return red >= 0 && after.slice(red + 1).some((s) => s.fill === 'green') && topCheck.delivered >= framesAtRestart + 3;
    }, 15_000);
    const resumedAfterMs = Date.now() - restartedAt;
    await waitFor(`${bottles} bottles settled`, () => line.state === 'finished' && line.tracker.counters().open === 0, 30_000);
    await waitFor('every verdict', () => verdictCount >= bottles, 5_000).catch(() => undefined);
    const tracker = line.tracker.counters();
    // Bottles triggered from the kill until the first top frame after the restart.
    const topIds = topCheck.bottleIds;
    const firstAfter = topIds.slice(framesAtRestart)[0] ?? Infinity;
    const lastBefore = Math.max(0, ...topIds.slice(0, topIds.length).filter((id) => (triggeredAt.get(id) ?? 0) < killedAt));
    const gap: number[] = [];
    // From 100 ms after the kill (a frame whose packets were all in before the kill may still
    // complete just after it) to the first top frame after the restart.
    for (const [id, at] of triggeredAt) if (at >= killedAt + 100 && id < firstAfter) gap.push(id);
    const gapWithTopFrame = gap.filter((id) => topIds.includes(id)).length;
    const gapKinds: Record<string, number> = {};
    for (const id of gap) { const k = verdicts.get(id)?.kind ?? 'none'; gapKinds[k] = (gapKinds[k] ?? 0) + 1; }
    const gapReasons = [...new Set(gap.map((id) => verdicts.get(id)?.reason ?? 'none'))];
    const afterKinds: Record<string, number> = {};
    for (const [id, v] of verdicts) if (id > firstAfter) afterKinds[v.kind] = (afterKinds[v.kind] ?? 0) + 1;
    const src = line.cameraList().find((c) => c.id === 'cam-top') as GigeSource;
    const warnings = (helper.getNode('cam-top') as unknown as Record<string, Spied>).warn.getCalls()
      .filter((c) => c.thisValue.id === 'cam-top').map((c) => String(c.args[0]));
    results.restart = {
      redAfterMs, redText, resumedAfterMs, lastBeforeRestart, gap: gap.length, gapFirst: gap[0], gapLast: gap.at(-1),
      lastFrameBottleBeforeKill: lastBefore, firstFrameBottleAfterRestart: firstAfter, gapKinds, gapReasons, gapWithTopFrame, afterKinds,
      tracker, verdicts: verdictCount, uniqueVerdicts: verdicts.size, triggered: line.bottlesTriggered,
      topCounters: pick(src.counters()), checks: Object.fromEntries(Object.entries(checks).map(([k, { bottleIds, ...v }]) => [k, v])),
      statusesAfterKill: since().filter((s) => !/frames/.test(s.text ?? '')).slice(0, 6), warnings: warnings.slice(0, 3),
    };
  } finally {
    await helper.unload().catch(() => undefined);
    await stopSim(topSim);
    await stopSim(leftSim);
  }
}

function taskCount(): number { return fs.readdirSync('/proc/self/task').length; }
function fdCount(): number { return fs.readdirSync('/proc/self/fd').length; }

/** Loads and unloads a two-camera flow 20 times; threads and descriptors must come back. */
async function redeployCase(images: string): Promise<void> {
  const cams = [CAMERAS[0], CAMERAS[1]] as Cam[];
  const sim = await startSim(cams);
  const rounds: { loadMs: number; frames: number[] }[] = [];
  const once = async (): Promise<{ loadMs: number; frames: number[] }> => {
    const t0 = Date.now();
    await helper.load(allNodes, flow({ cams, rate: 10, bottles: 0, inspect: false, images }));
    try {
      const line = lineOf('line-1');
      const checks = checkFrames(line, cams);
      await waitFor('both cameras green and 3 frames each', () => cams.every((c) =>
        (checks[c.serial] as Check).ok >= 3 && statuses(`cam-${c.pos}`).some((s) => s.fill === 'green')), 20_000);
      return { loadMs: Date.now() - t0, frames: cams.map((c) => (checks[c.serial] as Check).ok) };
    } finally {
      await helper.unload();
    }
  };
  try {
    // One round first: Aravis and libuv start threads and sockets on first use that they keep.
    await once();
    await settle();
    const before = { threads: taskCount(), fds: fdCount() };
    for (let i = 0; i < 20; i++) rounds.push(await once());
    // Threads end and sockets close just after close() answers; give them a moment to go.
    const t0 = Date.now();
    await waitFor('threads and fds back to where they were',
      () => taskCount() <= before.threads && fdCount() <= before.fds, 5_000).catch(() => undefined);
    const after = { threads: taskCount(), fds: fdCount(), waitedMs: Date.now() - t0 };
    results.redeploy = { before, after, rounds: rounds.length, loadMs: rounds.map((r) => r.loadMs),
      minFrames: Math.min(...rounds.flatMap((r) => r.frames)) };
  } finally {
    await helper.unload().catch(() => undefined);
    await stopSim(sim);
  }
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 500));
}

async function main(): Promise<void> {
  process.stderr.write(`NETNS ${fs.readlinkSync('/proc/self/ns/net')}\n`);
  const [mode, images, secondsArg] = process.argv.slice(2) as [string, string, string | undefined];
  const limit = setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ ...results, fatal: `run took over ${RUN_LIMIT_MS} ms` })}\n`);
    killAllSims();
    process.exit(2);
  }, RUN_LIMIT_MS);
  const t0 = Date.now();
  helper.init(require.resolve('node-red'));
  try {
    await prepare(images, mode === 'stream' ? CAMERAS : mode === 'restart' ? [CAMERAS[0], CAMERAS[2]] as Cam[] : CAMERAS.slice(0, 2));
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    try {
      if (mode === 'stream') await streamCase(images, Number(secondsArg ?? 20));
      else if (mode === 'restart') await restartCase(images);
      else if (mode === 'redeploy') await redeployCase(images);
      else throw new Error(`unknown mode ${mode}`);
    } catch (err) {
      results.error = errorMessage(err);
    } finally {
      await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    }
  } finally {
    killAllSims();
    clearTimeout(limit);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  results.totalMs = Date.now() - t0;
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

process.on('exit', killAllSims);
main().then(() => process.exit(0), (err: unknown) => {
  process.stdout.write(`${JSON.stringify({ ...results, fatal: errorMessage(err) })}\n`);
  killAllSims();
  process.exit(1);
});
