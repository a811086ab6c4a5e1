import type { EventEmitter } from 'node:events';

/**
 * A link to the PLC that fires the reject gate, independent of the protocol (OPC UA now, Modbus
 * later). The reject path only needs: is the PLC there, write these tags in one round trip, read
 * one back to confirm.
 */

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** PLC tag types the inspector writes. A value is sent with exactly this type, never converted. */
export type TagType = 'Boolean' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Float';

export const TAG_TYPES: readonly TagType[] = ['Boolean', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float'];

export interface TagWrite {
  tag: string;
  type: TagType;
  value: number | boolean;
}

/**
 * Events: 'state' (state: LinkState, detail?: string), emitted once per change of state, not once
 * per reconnection attempt.
 */
export interface PlcLink extends EventEmitter {
  readonly state: LinkState;
  /** Starts connecting and keeps reconnecting with backoff until close(). */
  connect(): void;
  /**
   * Writes all tags in one round trip. Rejects with InspectionError PLC_UNREACHABLE (not
   * connected), PLC_WRITE_FAILED (the PLC refused a tag: the message names tag and status),
   * DEADLINE_PASSED (no answer within timeoutMs) or INVALID_INPUT (nothing was sent).
   */
  write(writes: TagWrite[], timeoutMs: number): Promise<void>;
  read(tag: string, timeoutMs: number): Promise<number | boolean>;
  /** Bounded in time (≤ 3 s) and idempotent; leaves no socket, timer or session behind. */
  close(): Promise<void>;
}

/** Inclusive ranges of the integer types. */
const INTEGER_RANGES: Record<Exclude<TagType, 'Boolean' | 'Float'>, [number, number]> = {
  Int16: [-32768, 32767],
  UInt16: [0, 65535],
  Int32: [-2147483648, 2147483647],
  UInt32: [0, 4294967295],
};

/** Largest finite 32-bit float; anything beyond would arrive at the PLC as infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

export function isTagType(type: unknown): type is TagType {
  return typeof type === 'string' && (TAG_TYPES as readonly string[]).includes(type);
}

/**
 * Checks that a value fits its tag type, so that nothing out of range is ever sent: a PLC would
 * either refuse it or, worse, wrap it into another bottle id. Returns what is wrong, or undefined.
 */
export function checkTagValue(type: TagType, value: unknown): string | undefined {
  if (type === 'Boolean') {
    return typeof value === 'boolean' ? undefined : `a Boolean needs true or false, got ${describe(value)}`;
  }
  if (typeof value !== 'number') return `a ${type} needs a number, got ${describe(value)}`;
  if (type === 'Float') {
    // NaN and infinities are legal floats, but never a meaningful command for a reject gate.
    if (!Number.isFinite(value) || Math.abs(value) > FLOAT32_MAX) {
      return `a Float must be finite and within ±${FLOAT32_MAX}, got ${value}`;
    }
    return undefined;
  }
  const [min, max] = INTEGER_RANGES[type];
  if (!Number.isInteger(value) || value < min || value > max) {
    return `a ${type} must be a whole number ${min}..${max}, got ${value}`;
  }
  return undefined;
}

/** The error of withDeadline: the other side did not answer in time. */
export class DeadlineError extends Error {}

/** Resolves or rejects like `promise`, or rejects with DeadlineError after `ms`; leaves no timer. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  // A late rejection after the deadline must not become an unhandled rejection.
  promise.catch(() => undefined);
  if (ms === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string "${value}"`;
  return `${typeof value} ${String(value)}`;
}
