import path from 'node:path';
import { namespaceUnavailable, runNodeInNamespace } from './netns';

export interface AcquisitionBench {
  framesSent: number;
  framesReceived: number;
  framesDropped: number;
  /** CPU time of the receiving process (Aravis threads included) per frame received. */
  cpuMsPerFrame: number | null;
  cameras: number;
  seconds: number;
}

/**
 * Four simulated GigE Vision cameras at 1600×1200 Mono8, 28 fps, received through the native
 * cameras into one pool. GigE discovery broadcasts on every interface, so all of it runs inside a
 * network namespace of its own; the benchmark needs the rights to make one (root, or unshare).
 */
export async function benchAcquisition(opts: { images: string; seconds: number }): Promise<AcquisitionBench | { skipped: string }> {
  const why = namespaceUnavailable();
  if (why) return { skipped: why };
  const script = path.join(__dirname, 'bench-acquisition-run.js');
  const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const run = await runNodeInNamespace(script, [opts.images, String(opts.seconds)], addresses, (opts.seconds + 120) * 1000);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.code !== 0 || !line.startsWith('{')) {
    throw new Error(`acquisition benchmark failed (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(line) as AcquisitionBench;
}
