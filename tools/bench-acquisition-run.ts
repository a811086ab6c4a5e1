/**
 * The acquisition benchmark's inside: runs in a network namespace made for it (see
 * bench-acquisition.ts). Starts the line simulator with four cameras on 127.0.0.1–4, receives all
 * four into one frame pool through the native GigE cameras, and prints one JSON line: frames the
 * simulator sent and this process received, and this process's CPU time per frame received.
 *
 *   node dist/tools/bench-acquisition-run.js IMAGE_FOLDER SECONDS
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FramePool } from '../lib/frames/frame-pool';
import { loadNative } from '../lib/native';
import type { NativeGigeCamera, NativeGigeEvent } from '../lib/native/types';

const WIDTH = 1600;
const HEIGHT = 1200;
const FPS = 28;
const CAMERAS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'].map((address, i) => ({ address, serial: `CAM0${i + 1}` }));

function call<T>(fn: (cb: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

async function main(): Promise<void> {
  const [folder, secondsText] = process.argv.slice(2);
  const seconds = Number(secondsText);
  const sim = spawn(process.execPath, [
    path.join(__dirname, 'line-sim.js'), '--size', `${WIDTH}x${HEIGHT}`, '--fps', String(FPS),
    ...CAMERAS.flatMap((c) => ['--camera', `${c.address}:${c.serial}:${folder}`]),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let simOut = '';
  let simErr = '';
  sim.stdout.on('data', (d: Buffer) => { simOut += d.toString(); });
  sim.stderr.on('data', (d: Buffer) => { simErr += d.toString(); });
  const simExit = new Promise<void>((resolve) => sim.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator not ready: ${simErr}`)), 60_000);
    const check = setInterval(() => {
      if ((simOut.match(/^line-sim: camera/gm) ?? []).length >= CAMERAS.length) {
        clearTimeout(timer);
        clearInterval(check);
        resolve();
      }
    }, 50);
  });

  const addon = loadNative();
  const pool = new FramePool('bench', WIDTH * HEIGHT, 64);
  let received = 0;
  const cameras: NativeGigeCamera[] = [];
  for (const c of CAMERAS) {
    const camera = new addon.GigeCamera((e: NativeGigeEvent) => {
      if (e.type === 'frame') received++;
    });
    await call((cb) => camera.open({ serial: c.serial }, cb));
    await call((cb) => camera.configure({ pixelFormat: 'Mono8', frameRate: FPS, triggerMode: 'continuous', packetSize: 8192 }, cb));
    cameras.push(camera);
  }
  const cpu0 = process.cpuUsage();
  for (const camera of cameras) await call((cb) => camera.start(pool.native, 4, cb));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  // The cameras stop sending first, and the last frames are given time to arrive, so a frame
  // still on its way is not counted as dropped.
  sim.kill('SIGTERM');
  await simExit;
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const camera of cameras) await call((cb) => camera.stop(cb));
  const cpu = process.cpuUsage(cpu0);
  for (const camera of cameras) await call((cb) => camera.close(cb));
  pool.close();
  const sent = [...simErr.matchAll(/sent (\d+) frames/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  process.stdout.write(`${JSON.stringify({
    cameras: CAMERAS.length, width: WIDTH, height: HEIGHT, fps: FPS, seconds,
    framesSent: sent, framesReceived: received, framesDropped: Math.max(0, sent - received),
    cpuMsPerFrame: received > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / received) * 1000) / 1000 : null,
  })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-acquisition: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
