/**
 * GigE Vision acquisition (native/src/gige_*, lib/camera/gige.ts) against the line simulator's
 * fake cameras. Everything that touches Aravis runs in test/support/gige-probe.ts, inside a network
 * namespace this test creates (unshare -n, loopback only, 127.0.0.2 and 127.0.0.3 added); the
 * probe prints one JSON report that the cases below check. Skips, saying why, where namespaces or
 * Aravis are missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { repoRoot, sampleImagesDir } from './support/images';
import { namespaceUnavailable, runNodeInNamespace } from './support/netns';

interface Report {
  discovery?: { serial: string; address: string; vendor: string; model: string; protocol: string }[];
  configure?: {
    info: Record<string, unknown>;
    requested: Record<string, unknown>;
    accepted: Record<string, unknown>;
    invalid: Record<string, { code?: string; message: string }>;
    restored: Record<string, unknown>;
  };
  stream?: {
    frames: number; mismatches: number; sizeErrors: number; firstMismatch: string[];
    counters: Record<string, number>; cpuMsPerFrame: number; elapsedMs: number;
    poolCounters: { held: number };
  };
  source?: { bottleIds: number[]; missed: string[]; counters: Record<string, number>; notFound: string };
  reopen?: { before: { threads: number; fds: number; held: number }; after: { threads: number; fds: number; held: number } };
  topSent?: number;
  [key: string]: unknown;
}

describe('GigE Vision acquisition (fake cameras in a network namespace)', function () {
  this.timeout(120_000);
  let report: Report = {};
  let raw = '';

  before(async function () {
    const missing = namespaceUnavailable() ??
      (spawnSync('pkg-config', ['--exists', 'aravis-0.8']).status === 0 ? undefined : 'Aravis 0.8 is not installed');
    if (missing) {
      process.stderr.write(`      gige test skipped: ${missing}\n`);
      this.skip();
    }
    const build = spawnSync('make', ['-C', path.join(repoRoot, 'sim')], { encoding: 'utf8' });
    assert.equal(build.status, 0, `make -C sim failed:\n${build.stdout}\n${build.stderr}`);
    const run = await runNodeInNamespace(
      path.join(repoRoot, 'dist', 'test', 'support', 'gige-probe.js'),
      [path.join(sampleImagesDir(), 'top_view'), path.join(sampleImagesDir(), 'side_view_juice')],
      ['127.0.0.2', '127.0.0.3'], 100_000,
    );
    raw = `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    const last = run.stdout.trim().split('\n').pop() ?? '';
    try {
      report = JSON.parse(last) as Report;
    } catch {
      assert.fail(`the probe printed no JSON report:\n${raw}`);
    }
    assert.equal(run.code, 0, raw);
  });

  it('discovers both simulated cameras with their serials and addresses', () => {
    const found = (report.discovery ?? []).map((d) => `${d.serial}@${d.address}`).sort();
    assert.deepEqual(found, ['SIDE01@127.0.0.3', 'TOP01@127.0.0.2'], raw);
    for (const d of report.discovery ?? []) assert.equal(d.protocol, 'GigEVision');
  });

  it('opens by serial, configures every feature the fake camera has and reads back what it accepted', () => {
    const c = report.configure;
    assert.ok(c, `configure step failed: ${String(report.configureError)}`);
    assert.equal(c.info.serial, 'SIDE01');
    assert.equal(c.info.address, '127.0.0.3');
    assert.equal(c.info.mtu, 65536);
    for (const [k, v] of Object.entries(c.requested)) assert.equal(c.accepted[k], v, `${k}: ${JSON.stringify(c.accepted)}`);
    assert.equal(c.accepted.payloadBytes, 800 * 600 * 2);
    assert.equal(c.restored.width, 1600);
    assert.equal(c.restored.triggerMode, 'continuous');
  });

  it('refuses unsupported values with INVALID_CONFIG naming the feature, the value and what is allowed', () => {
    const inv = report.configure?.invalid ?? {};
    const expect: Record<string, RegExp> = {
      width0: /width 0 .*1\.\.1600/,
      pixelFormat: /pixel format "Mono12Foo".*Mono8/,
      exposure: /exposure \(µs\) 1 .*10\.\./,
      edge: /FallingEdge.*RisingEdge/,
      packetMtu: /packet size 70000 exceeds the MTU 65536/,
      line: /Line7.*Line0, Software/,
    };
    for (const [name, re] of Object.entries(expect)) {
      assert.equal(inv[name]?.code, 'INVALID_CONFIG', `${name}: ${JSON.stringify(inv[name])}`);
      assert.match(inv[name]?.message ?? '', re);
    }
  });

  it('streams 1600x1200 Mono8 at 28 fps into the pool, every frame equal to its source image', () => {
    const s = report.stream;
    assert.ok(s, `stream step failed: ${String(report.streamError)}`);
    assert.ok(s.frames >= 28 * 3, `only ${s.frames} frames in ${s.elapsedMs} ms`);
    assert.equal(s.mismatches, 0, `frames differ from their source: ${s.firstMismatch.join(', ')}`);
    assert.equal(s.sizeErrors, 0);
    assert.equal(s.poolCounters.held, 0, 'slots still held after close');
    const c = s.counters;
    const lost = c.incomplete + c.nonMonotonic + c.skippedIds;
    // The simulator counts what it sent; a frame in flight at stop may be sent but never received.
    const sent = report.topSent ?? -1;
    assert.ok(sent >= c.completed + lost && sent - (c.completed + lost) <= 1,
      `sent ${sent}, received ${c.completed} + lost ${lost}`);
    assert.equal(c.completed, s.frames);
    process.stderr.write(`      ${s.frames} frames, ${lost} lost, ${s.cpuMsPerFrame.toFixed(2)} ms CPU per frame (incl. copy + SHA-256)\n`);
  });

  it('GigeSource pairs each trigger with the next frame and names what it searched when not found', () => {
    const src = report.source;
    assert.ok(src, `source step failed: ${String(report.sourceError)}`);
    assert.deepEqual(src.bottleIds, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(src.missed, []);
    assert.equal(src.counters.frames, 10);
    assert.ok(src.counters.unclaimed > 0, 'continuous frames between triggers are counted as unclaimed');
    assert.match(src.notFound, /serial "NOPE99".*SIDE01 at 127\.0\.0\.3/);
  });

  it('closes and reopens 10 times without leaving threads, sockets or held slots behind', () => {
    const r = report.reopen;
    assert.ok(r, `reopen step failed: ${String(report.reopenError)}`);
    assert.equal(r.after.threads, r.before.threads);
    assert.equal(r.after.fds, r.before.fds);
    assert.equal(r.after.held, 0);
  });
});

describe('frame pool external-writer path (reserve / commit / release)', () => {
  it('holds a reserved slot against write(), read() and another reserve() until commit or release', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadNative } = require('../lib/native') as typeof import('../lib/native');
    const pool = new (loadNative().FramePool)(4, 2);
    const old = pool.write(new Uint8Array([1, 2, 3, 4]), 2, 2, 1);
    assert.ok(old);
    const r = pool.reserve();
    assert.ok(r);
    assert.equal(pool.heldSlots, 1);
    assert.equal(pool.isValid(r.slot, r.generation), false, 'not readable while held');
    const other = pool.reserve();
    assert.ok(other && other.slot !== r.slot);
    assert.equal(pool.reserve(), null, 'both slots held');
    assert.equal(pool.write(new Uint8Array(4), 2, 2, 1), null, 'write() never takes a held slot');
    pool.release(other.slot);
    assert.equal(pool.commit(r.slot, 2, 2, 1), true);
    assert.equal(pool.isValid(r.slot, r.generation), true);
    assert.equal(pool.read(r.slot, r.generation).length, 4);
    if (r.slot === old.slot) assert.equal(pool.isValid(old.slot, old.generation), false, 'older reference expired');
    assert.equal(pool.heldSlots, 0);
    pool.close();
  });
});
