/**
 * The gige-camera node with source "gige" in a Node-RED runtime, against the line simulator's fake
 * GigE Vision cameras. Everything that touches Aravis (the simulator and the Node-RED runtime that
 * opens the cameras) runs in test/support/gige-flow-run.ts inside a network namespace this test
 * creates (unshare -n, loopback only, 127.0.0.2 to 127.0.0.4 added); it prints one JSON report that
 * the cases below check. Skips, saying why, where namespaces or Aravis are missing.
 *
 * The simulator runs its cameras free (continuous, 28 fps) rather than software-triggered:
 * GigeSource pairs a bottle with the next frame after its trigger, and only in continuous mode
 * does its watchdog notice a camera that stops sending, which the lost/restored case relies on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { repoRoot, sampleImagesDir } from './support/images';
import { namespaceUnavailable, runNodeInNamespace } from './support/netns';

type Status = { fill?: string; text?: string };
interface Report {
  good?: {
    lineState: string;
    tracker: { seen: number; open: number };
    verdictIds: number[];
    verdictKinds: string[];
    framesPerCamera: Record<string, number>;
    frameBottleIds: Record<string, number[]>;
    missed: Record<string, string[]>;
    cameras: Record<string, { triggers: number; frames: number; missed: number }>;
    frameSizes: { count: number; max: number };
    statuses: Record<string, Status[]>;
    warnings: Record<string, string[]>;
    errors: Record<string, string[]>;
    firstFrame?: { width: number; height: number; pixelFormat: string; source: string };
  };
  lost?: { lostAfterMs: number; restoredAfterMs: number; statuses: Status[]; warnings: string[] };
  releasedAfterClose?: boolean | string;
  bad?: {
    width0: { statuses: Status[]; errors: string[] };
    ghost: { statuses: Status[]; errors: string[] };
    line: { state: string; triggered: number; errors: string[] };
  };
  [key: string]: unknown;
}

const BOTTLES = 40;

describe('gige-camera node with GigE Vision cameras (fake cameras in a network namespace)', function () {
  this.timeout(120_000);
  let report: Report = {};
  let raw = '';

  before(async function () {
    const missing = namespaceUnavailable() ??
      (spawnSync('pkg-config', ['--exists', 'aravis-0.8']).status === 0 ? undefined : 'Aravis 0.8 is not installed');
    if (missing) {
      process.stderr.write(`      gige flow test skipped: ${missing}\n`);
      this.skip();
    }
    const build = spawnSync('make', ['-C', path.join(repoRoot, 'sim')], { encoding: 'utf8' });
    assert.equal(build.status, 0, `make -C sim failed:\n${build.stdout}\n${build.stderr}`);
    const images = sampleImagesDir();
    const run = await runNodeInNamespace(
      path.join(repoRoot, 'dist', 'test', 'support', 'gige-flow-run.js'),
      [path.join(images, 'top_view'), path.join(images, 'side_view_juice'), path.join(images, 'teach')],
      ['127.0.0.2', '127.0.0.3', '127.0.0.4'], 100_000,
    );
    raw = `exit ${run.code}\nstdout (last 4000 chars):\n${run.stdout.slice(-4000)}\nstderr:\n${run.stderr.slice(-4000)}`;
    const last = run.stdout.trim().split('\n').pop() ?? '';
    try {
      report = JSON.parse(last) as Report;
    } catch {
      assert.fail(`the flow run printed no JSON report:\n${raw}`);
    }
    assert.equal(run.code, 0, raw);
  });

  it(`gives every one of ${BOTTLES} bottles exactly one verdict`, () => {
    const g = report.good;
    assert.ok(g, `the flow failed: ${String(report.goodError)}\n${raw}`);
    assert.equal(g.lineState, 'finished');
    assert.equal(g.tracker.seen, BOTTLES);
    assert.equal(g.tracker.open, 0);
    assert.equal(g.verdictIds.length, BOTTLES, 'one verdict per bottle, none twice');
    assert.deepEqual([...g.verdictIds].sort((a, b) => a - b), Array.from({ length: BOTTLES }, (_, i) => i + 1));
    // Bottles before inspect has taught its grey reference are uncertain; the rest are decided.
    const kinds = new Set(g.verdictKinds);
    assert.ok(kinds.has('pass') || kinds.has('fail'), `some bottles decided: ${g.verdictKinds.join(', ')}`);
  });

  it('sends a frame of each bottle from each camera, or counts the trigger as missed', () => {
    const g = report.good;
    assert.ok(g, `the flow failed: ${String(report.goodError)}`);
    for (const id of ['cam-top', 'cam-side']) {
      const frames: number = g.framesPerCamera[id] ?? 0;
      const missed: number = g.missed[id]?.length ?? 0;
      const c: { triggers: number; frames: number; missed: number } | undefined = g.cameras[id];
      assert.ok(c, `counters of ${id}`);
      assert.equal(c.triggers, BOTTLES);
      assert.equal(frames + missed, BOTTLES, `${id}: ${frames} frames + ${missed} missed (${g.missed[id]?.join('; ')})`);
      // Every trigger is accounted for above. How many find a frame in time depends on how busy
      // the machine is (a loaded 2-core machine has missed 3 of 40), so this only asks for most.
      assert.ok(frames >= BOTTLES * 0.75, `${id}: only ${frames} frames of ${BOTTLES}: ${g.missed[id]?.join('; ')}`);
      assert.equal(c.frames, frames);
      assert.equal(c.missed, missed);
      const ids: number[] = g.frameBottleIds[id] ?? [];
      assert.equal(new Set(ids).size, ids.length, `${id}: a bottle got two frames`);
    }
    assert.deepEqual(
      { width: g.firstFrame?.width, height: g.firstFrame?.height, pixelFormat: g.firstFrame?.pixelFormat },
      { width: 1600, height: 1200, pixelFormat: 'Mono8' },
    );
  });

  it('keeps each frame message small: a reference, never the pixels', () => {
    const g = report.good;
    assert.ok(g);
    assert.ok(g.frameSizes.count >= 2 * (BOTTLES - 2), `frame messages measured: ${g.frameSizes.count}`);
    assert.ok(g.frameSizes.max < 64 * 1024, `largest frame message ${g.frameSizes.max} bytes`);
  });

  it('shows what the camera accepted in its status, and nothing to warn about', () => {
    const g = report.good;
    assert.ok(g);
    for (const id of ['cam-top', 'cam-side']) {
      const shown = g.statuses[id] ?? [];
      assert.ok(shown.some((s) => s.fill === 'green' && /^1600x1200 Mono8 @ 28 fps/.test(s.text ?? '')),
        `${id} statuses: ${JSON.stringify(shown.slice(0, 4))}`);
      assert.ok(!shown.some((s) => s.fill === 'red'), `${id} never red: ${JSON.stringify(shown.filter((s) => s.fill === 'red'))}`);
      assert.deepEqual(g.errors[id], []);
      assert.deepEqual(g.warnings[id], [], 'the camera took every value as requested');
    }
  });

  it('turns red with "camera lost" within 2 s when the camera stops sending, and green once it is reopened', () => {
    const l = report.lost;
    assert.ok(l, `the lost case failed: ${String(report.goodError)}`);
    assert.ok(l.lostAfterMs >= 0 && l.lostAfterMs <= 2000, `lost reported after ${l.lostAfterMs} ms`);
    const red = l.statuses.find((s) => s.fill === 'red');
    assert.match(red?.text ?? '', /^camera lost: no frame for \d+ ms/);
    assert.equal(l.statuses.at(-1)?.fill, 'green');
    assert.match(l.statuses.at(-1)?.text ?? '', /^1600x1200 Mono8 @ 28 fps/);
    assert.match(l.warnings.join('\n'), /camera serial "TOP01" lost: .*reopening it/);
  });

  it('releases the cameras when the flow stops: they can be opened again at once', () => {
    assert.equal(report.releasedAfterClose, true, String(report.releasedAfterClose));
  });

  it('refuses a width of 0 with a red status naming the width', () => {
    const b = report.bad;
    assert.ok(b, `the bad-config flow failed: ${String(report.badError)}`);
    const shown = b.width0.statuses.at(-1);
    assert.equal(shown?.fill, 'red');
    assert.match(shown?.text ?? '', /^width must be blank or a whole number 1\.\.16384, got 0/);
    assert.match(b.width0.errors[0] ?? '', /invalid camera config: width/);
  });

  it('names a serial no camera has, and the line refuses to start rather than run without that view', () => {
    const b = report.bad;
    assert.ok(b, `the bad-config flow failed: ${String(report.badError)}`);
    const shown = b.ghost.statuses.at(-1);
    assert.equal(shown?.fill, 'red');
    assert.match(shown?.text ?? '', /serial "NOPE99".*cannot be opened.*discovery found .*TOP01/);
    assert.match(b.ghost.errors[0] ?? '', /camera source failed: .*NOPE99/);
    assert.equal(b.line.state, 'error');
    assert.equal(b.line.triggered, 0, 'no bottle is triggered');
    assert.match(b.line.errors.join('\n'), /line could not start: .*NOPE99/);
  });
});
