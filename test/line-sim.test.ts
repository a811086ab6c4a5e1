/**
 * The GigE Vision line simulator end to end: tools/line-sim.ts decodes real bottle images and
 * starts sim/line-sim with two cameras; Aravis's own arv-camera-test-0.8 finds each camera by
 * name (broadcast discovery) and streams from it; sim/line-sim-client receives frames and prints
 * their SHA-256, which must equal the source frame the simulator promises for each frame id.
 *
 * Everything networked runs inside a network namespace this test creates (`unshare -n`), with
 * only loopback up and 127.0.0.2 added: fake cameras answer discovery broadcasts, and nothing may
 * reach or disturb the host's interfaces. Skips (saying why) where namespaces, Aravis or its tools
 * are missing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadFrames } from '../tools/line-sim';
import { repoRoot, sampleImagesDir } from './support/images';

const FPS = 28;
const SIZE = { width: 1600, height: 1200 };
const ARV_TEST_SECONDS = 4;
const CLIENT_FRAMES = 56; // two seconds per camera
const CAMERAS = [
  { address: '127.0.0.1', serial: 'TOP01', folder: path.join(sampleImagesDir(), 'top_view') },
  { address: '127.0.0.2', serial: 'SIDE01', folder: path.join(sampleImagesDir(), 'side_view_juice') },
] as const;
const PFNC_MONO8 = 0x01080001;

/** Why this machine cannot run the test, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  for (const [cmd, args] of [
    ['pkg-config', ['--exists', 'aravis-0.8']],
    ['arv-camera-test-0.8', ['--version']],
    ['make', ['--version']],
    ['ip', ['-V']],
  ] as const) {
    const r = spawnSync(cmd, [...args], { stdio: 'ignore' });
    if (r.error || r.status !== 0) return `${cmd} ${args.join(' ')} failed (Aravis 0.8 dev files and tools, make, iproute2)`;
  }
  const ns = spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
  if (ns.error || ns.status !== 0) return 'cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN)';
  return undefined;
}

interface ArvCameraTestResult {
  serial?: string;
  width?: number;
  height?: number;
  /** One entry per second: frames in that second and the errors it reported. */
  seconds: { fps: number; errors: number }[];
  completed: number;
  failures: number;
}

function parseArvCameraTest(text: string): ArvCameraTestResult {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const seconds = [...text.matchAll(/^\s*(\d+) frames?\/s\s+-\s+[\d.]+ MiB\/s(?:\s+-\s+(\d+) errors?)?\s*$/gm)]
    .map((m) => ({ fps: Number(m[1]), errors: m[2] ? Number(m[2]) : 0 }));
  return {
    serial: /^device serial number\s+=\s+(\S+)/m.exec(text)?.[1],
    width: num(/^image width\s+=\s+(\d+)/m),
    height: num(/^image height\s+=\s+(\d+)/m),
    seconds,
    completed: num(/^n_completed_buffers\s+=\s+(\d+)/m) ?? -1,
    failures: num(/^n_failures\s+=\s+(\d+)/m) ?? -1,
  };
}

interface ClientFrame {
  id: number;
  status: string;
  width?: number;
  height?: number;
  format?: number;
  sha256?: string;
}

function parseClient(text: string): { frames: ClientFrame[]; summary: Record<string, number> } {
  const frames: ClientFrame[] = [];
  let summary: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const fields = Object.fromEntries(
      line.split(' ').slice(1).map((kv) => kv.split('=') as [string, string]),
    );
    if (line.startsWith('frame ')) {
      frames.push({
        id: Number(fields.id),
        status: fields.status as string,
        width: fields.width === undefined ? undefined : Number(fields.width),
        height: fields.height === undefined ? undefined : Number(fields.height),
        format: fields.format === undefined ? undefined : Number(fields.format),
        sha256: fields.sha256,
      });
    } else if (line.startsWith('summary ')) {
      summary = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Number(v)]));
    }
  }
  return { frames, summary };
}

/** The next GigE Vision 1.x block id: 16 bit, 0 skipped. */
const nextFrameId = (id: number): number => (id >= 65535 ? 1 : id + 1);

describe('GigE Vision line simulator (sim/line-sim over loopback in a network namespace)', function () {
  this.timeout(120_000);

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'line-sim-test-'));
  const out = (name: string): string => fs.readFileSync(path.join(outDir, name), 'utf8');
  const expected = new Map<string, string[]>(); // serial -> SHA-256 of each source frame, in order
  let nsExit: number | null = null;

  before(async function () {
    const missing = missingPrerequisite();
    if (missing) {
      process.stderr.write(`      line-sim test skipped: ${missing}\n`);
      this.skip();
    }
    const build = spawnSync('make', ['-C', path.join(repoRoot, 'sim')], { encoding: 'utf8' });
    assert.equal(build.status, 0, `make -C sim failed:\n${build.stdout}\n${build.stderr}`);

    for (const cam of CAMERAS) {
      const set = await loadFrames(cam.folder, SIZE);
      expected.set(cam.serial, set.frames.map((f) => createHash('sha256').update(f).digest('hex')));
    }

    const launcher = path.join(repoRoot, 'dist', 'tools', 'line-sim.js');
    const client = path.join(repoRoot, 'sim', 'build', 'line-sim-client');
    // One shell inside the namespace: set up loopback, start the simulator, wait for its ready
    // lines, then run the Aravis clients against both cameras at once. The EXIT trap stops the
    // simulator whatever happens, and the namespace dies with the shell.
    const script = `
      set -u
      cd "$REPO"
      ip link set lo up && ip addr add 127.0.0.2/8 dev lo || exit 90
      node "$LAUNCHER" --camera 127.0.0.1:TOP01:"$TOP" --camera 127.0.0.2:SIDE01:"$SIDE" \\
        --size ${SIZE.width}x${SIZE.height} --fps ${FPS} >"$OUT/sim.out" 2>"$OUT/sim.err" &
      SIM=$!
      trap 'kill -TERM $SIM 2>/dev/null; wait $SIM; echo $? >"$OUT/sim.rc"' EXIT
      for i in $(seq 300); do
        [ "$(grep -c '^line-sim: camera' "$OUT/sim.out")" -ge 2 ] && break
        kill -0 $SIM 2>/dev/null || exit 91
        sleep 0.1
      done
      [ "$(grep -c '^line-sim: camera' "$OUT/sim.out")" -ge 2 ] || exit 92
      # arv-camera-test's socket buffer is the payload size at most (-a); with 8 KiB packets a
      # 2 MP frame overflows it on loopback, so it runs with 64000-byte packets.
      PIDS=""
      for s in TOP01 SIDE01; do
        arv-camera-test-0.8 -n Aravis-Fake-$s --no-packet-socket -a -i 64000 \\
          --duration ${ARV_TEST_SECONDS} >"$OUT/arv-$s.txt" 2>&1 &
        PIDS="$PIDS $!"
      done
      wait $PIDS
      PIDS=""
      for a in 127.0.0.1:TOP01 127.0.0.2:SIDE01; do
        "$CLIENT" --address \${a%%:*} --frames ${CLIENT_FRAMES} >"$OUT/client-\${a#*:}.txt" 2>&1 &
        PIDS="$PIDS $!"
      done
      wait $PIDS
      exit 0
    `;
    nsExit = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('unshare', ['-n', 'bash', '-c', script], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          REPO: repoRoot, LAUNCHER: launcher, CLIENT: client, OUT: outDir,
          TOP: CAMERAS[0].folder, SIDE: CAMERAS[1].folder,
        },
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
  });

  after(() => {
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('starts both cameras and stops cleanly on SIGTERM', () => {
    assert.equal(nsExit, 0, `namespace script failed (${nsExit}); simulator said:\n${out('sim.err')}`);
    const ready = out('sim.out').trim().split('\n');
    assert.deepEqual(ready, [
      `line-sim: camera TOP01 on 127.0.0.1, 1600x1200 Mono8, ${expected.get('TOP01')?.length} frames`,
      `line-sim: camera SIDE01 on 127.0.0.2, 1600x1200 Mono8, ${expected.get('SIDE01')?.length} frames`,
    ]);
    assert.equal(out('sim.rc').trim(), '0', out('sim.err'));
    assert.match(out('sim.err'), /line-sim: camera TOP01 sent \d+ frames/);
  });

  for (const cam of CAMERAS) {
    it(`arv-camera-test finds ${cam.serial} by name and streams at ${FPS} fps ±20%`, () => {
      const text = out(`arv-${cam.serial}.txt`);
      const r = parseArvCameraTest(text);
      assert.equal(r.serial, cam.serial, text);
      assert.equal(r.width, SIZE.width);
      assert.equal(r.height, SIZE.height);
      assert.ok(r.seconds.length >= ARV_TEST_SECONDS - 1, `too few per-second reports:\n${text}`);
      // The first second includes start-up: Aravis's fake camera (the stock arv-fake-gv-camera
      // too) loses the first frame after acquisition starts. Every later second must be clean.
      for (const s of r.seconds.slice(1)) {
        assert.ok(Math.abs(s.fps - FPS) <= FPS * 0.2, `rate ${s.fps} frames/s, expected ${FPS} ±20%:\n${text}`);
        assert.equal(s.errors, 0, `errors after start-up:\n${text}`);
      }
      assert.ok(r.failures <= 1, `${r.failures} failed buffers:\n${text}`);
      assert.ok(r.completed >= FPS * (ARV_TEST_SECONDS - 1) * 0.8, `only ${r.completed} frames:\n${text}`);
    });

    it(`${cam.serial}'s frames arrive intact, in order, frame id F carrying source frame F mod N`, () => {
      const text = out(`client-${cam.serial}.txt`);
      const { frames, summary } = parseClient(text);
      const sources = expected.get(cam.serial) as string[];
      assert.equal(frames.length, CLIENT_FRAMES, text);
      // As above, only the first buffer after start may be incomplete.
      const good = frames[0]?.status === 'success' ? frames : frames.slice(1);
      for (const [i, f] of good.entries()) {
        assert.equal(f.status, 'success', `frame ${f.id}:\n${text}`);
        assert.equal(f.width, SIZE.width);
        assert.equal(f.height, SIZE.height);
        assert.equal(f.format, PFNC_MONO8);
        assert.equal(f.sha256, sources[f.id % sources.length], `frame id ${f.id} is not source frame ${f.id % sources.length}`);
        if (i > 0) assert.equal(f.id, nextFrameId((good[i - 1] as ClientFrame).id), `frame ids skip:\n${text}`);
      }
      // Every source frame went past at least once.
      assert.equal(new Set(good.map((f) => f.sha256)).size, sources.length);
      assert.equal(summary.underruns, 0, text);
      assert.ok(Math.abs((summary.fps as number) - FPS) <= FPS * 0.2, `client measured ${summary.fps} fps:\n${text}`);
    });
  }
});
