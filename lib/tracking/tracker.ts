import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../util/clock';
import type { Verdict } from '../decision/decide';

/** Why a bottle was handled fail-safe instead of being accepted or rejected on its verdict. */
export type FailSafeCause =
  | 'no_verdict'        // nothing decided the bottle before its deadline
  | 'missing_view'      // a view never arrived
  | 'timeout'           // views were still missing when the wait for them ended
  | 'inspection_error'  // a view could not be inspected (expired frame, no reference)
  | 'plc_unreachable'   // the PLC link was down when the verdict was ready
  | 'plc_write_failed'  // the PLC refused the write or did not answer in time
  | 'late'              // the verdict came too close to the deadline to be written
  | 'stopped';          // the line stopped (redeploy, shutdown) with the bottle still on it

export const FAIL_SAFE_CAUSES: readonly FailSafeCause[] = [
  'no_verdict', 'missing_view', 'timeout', 'inspection_error',
  'plc_unreachable', 'plc_write_failed', 'late', 'stopped',
];

export type Outcome =
  | { kind: 'accepted' }
  | { kind: 'rejected' }
  | { kind: 'failsafe'; cause: FailSafeCause };

export interface Bottle {
  id: number;
  triggerTimeMs: number;
  /** Latest time at which the PLC may still be told about this bottle. */
  deadlineMs: number;
  verdict?: Verdict;
  /** True while a write for this bottle is on its way to the PLC. */
  writePending: boolean;
}

export interface TrackerCounters {
  seen: number;
  open: number;
  accepted: number;
  rejected: number;
  failsafe: Record<FailSafeCause, number>;
  /** Verdicts or outcomes that arrived for a bottle already settled or never seen. */
  stray: number;
}

/**
 * Gives every bottle exactly one outcome.
 *
 * A bottle is opened when its trigger fires and settled once: by whoever writes its verdict to the
 * PLC, or by the tracker itself when its deadline passes with nothing settled (no_verdict). A write
 * still in flight at the deadline is allowed to finish, since its own timeout ends by the deadline;
 * a backstop a little later settles the bottle if even that never reports.
 *
 * Events: 'open' (bottle), 'verdict' (bottle, verdict), 'outcome' (bottle, outcome).
 */
export class BottleTracker extends EventEmitter {
  private readonly open = new Map<number, { bottle: Bottle; timer: TimerHandle }>();
  private nextId = 1;
  private readonly counts: TrackerCounters = emptyCounters();

  constructor(private readonly clock: Clock, private readonly backstopMs = 1000) {
    super();
  }

  /** Start tracking a new bottle whose trigger fired at `triggerTimeMs`. */
  openBottle(triggerTimeMs: number, deadlineMs: number): Bottle {
    const bottle: Bottle = { id: this.nextId++, triggerTimeMs, deadlineMs, writePending: false };
    const timer = this.clock.setTimeout(() => this.onDeadline(bottle.id), deadlineMs - this.clock.now());
    this.open.set(bottle.id, { bottle, timer });
    this.counts.seen++;
    this.emit('open', bottle);
    return bottle;
  }

  get(bottleId: number): Bottle | undefined {
    return this.open.get(bottleId)?.bottle;
  }

  /** Record the bottle's verdict. Returns the bottle, or undefined if it is no longer open. */
  recordVerdict(verdict: Verdict): Bottle | undefined {
    const entry = this.open.get(verdict.bottleId);
    if (!entry || entry.bottle.verdict) {
      this.counts.stray++;
      return undefined;
    }
    entry.bottle.verdict = verdict;
    this.emit('verdict', entry.bottle, verdict);
    return entry.bottle;
  }

  /** Settle a bottle. Returns false, and counts a stray, if it was already settled or unknown. */
  settle(bottleId: number, outcome: Outcome): boolean {
    const entry = this.open.get(bottleId);
    if (!entry) {
      this.counts.stray++;
      return false;
    }
    this.open.delete(bottleId);
    this.clock.clearTimeout(entry.timer);
    if (outcome.kind === 'failsafe') this.counts.failsafe[outcome.cause]++;
    else this.counts[outcome.kind]++;
    this.emit('outcome', entry.bottle, outcome);
    return true;
  }

  /** Settle every open bottle as fail-safe with the given cause (the line is stopping). */
  settleAll(cause: FailSafeCause): void {
    for (const id of [...this.open.keys()]) this.settle(id, { kind: 'failsafe', cause });
  }

  counters(): TrackerCounters {
    return {
      ...this.counts,
      open: this.open.size,
      failsafe: { ...this.counts.failsafe },
    };
  }

  private onDeadline(bottleId: number): void {
    const entry = this.open.get(bottleId);
    if (!entry) return;
    if (entry.bottle.writePending) {
      entry.timer = this.clock.setTimeout(() => this.onBackstop(bottleId), this.backstopMs);
      return;
    }
    this.settle(bottleId, { kind: 'failsafe', cause: 'no_verdict' });
  }

  private onBackstop(bottleId: number): void {
    if (this.open.has(bottleId)) this.settle(bottleId, { kind: 'failsafe', cause: 'plc_write_failed' });
  }
}

function emptyCounters(): TrackerCounters {
  const failsafe = Object.fromEntries(FAIL_SAFE_CAUSES.map((c) => [c, 0])) as Record<FailSafeCause, number>;
  return { seen: 0, open: 0, accepted: 0, rejected: 0, failsafe, stray: 0 };
}
