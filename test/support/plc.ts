import { SimPlc, type SimPlcOptions } from '../../lib/plc/sim-plc';

/** Starts a simulated PLC on 127.0.0.1 and a free port. Stop it with `plc.stop()`. */
export function startPlc(opts: Omit<SimPlcOptions, 'port' | 'host'> = {}): Promise<SimPlc> {
  return SimPlc.start({ ...opts, port: 0, host: '127.0.0.1' });
}

/**
 * Polls `condition` every `everyMs` until it holds, or fails after `timeoutMs` naming `what`.
 * For waiting on state that has no event; never a fixed sleep.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
  everyMs = 20,
): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
