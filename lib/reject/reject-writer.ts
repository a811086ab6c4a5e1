import { EventEmitter } from 'node:events';
import type { Verdict } from '../decision/decide';
import type { PlcLink, TagWrite } from '../plc/types';
import type { Bottle, BottleTracker, FailSafeCause, Outcome } from '../tracking/tracker';
import type { Clock, TimerHandle } from '../util/clock';
import { errorCode, errorMessage } from '../util/errors';

/** PLC tags of the bottle-id handshake. NodeIds for OPC UA. */
export interface RejectTags {
  bottleId: string;
  accept: string;
  reasonCode: string;
  heartbeat: string;
}

export interface RejectWriterOptions {
  tags: RejectTags;
  /** A verdict with less time than this left before its deadline is not written: it would be late. */
  writeMarginMs: number;
  /** How often the heartbeat counter is written; 0 turns the heartbeat off. */
  heartbeatIntervalMs: number;
  /**
   * Whether the inspector is doing its job. The heartbeat stops while this is false, so the PLC
   * notices an inspector that is up but not inspecting (a line that failed to start) as well as
   * one that is gone.
   */
  inspecting?: () => boolean;
}

export interface RejectReport {
  bottleId: number;
  /** What the PLC was told, or would have been told. */
  action: 'accept' | 'reject';
  written: boolean;
  /** The bottle's outcome; absent when the bottle had already been settled (a stray verdict). */
  outcome?: Outcome;
  /** Why nothing was written, or why the write failed. */
  error?: string;
  /** From the bottle's trigger to the end of the write. */
  latencyMs: number;
  /** Time that was left before the deadline when the write ended (negative: after it). */
  slackMs: number;
}

export function validateRejectWriter(o: RejectWriterOptions): string | undefined {
  for (const [name, tag] of Object.entries(o.tags)) {
    if (name === 'heartbeat' && o.heartbeatIntervalMs === 0) continue;
    if (typeof tag !== 'string' || tag.trim() === '') return `the ${name} tag is empty`;
  }
  if (!(o.writeMarginMs >= 0 && o.writeMarginMs <= 10_000)) return `write margin must be 0 to 10000 ms, got ${o.writeMarginMs}`;
  if (!(o.heartbeatIntervalMs === 0 || (o.heartbeatIntervalMs >= 50 && o.heartbeatIntervalMs <= 60_000))) {
    return `heartbeat interval must be 0 (off) or 50 to 60000 ms, got ${o.heartbeatIntervalMs}`;
  }
  return undefined;
}

/**
 * Tells the PLC every bottle's verdict before the bottle's deadline. The PLC treats a bottle as
 * faulty until it is told the bottle is good, so anything that goes wrong here ends in a reject:
 * a verdict that would be late is never written, a PLC that is down or refuses the write leaves
 * the bottle fail-safe, and every such case is counted by its cause in the tracker.
 *
 * Events: 'report' (RejectReport) for every verdict handled; 'heartbeat' (ok, error?) on change.
 */
export class RejectWriter extends EventEmitter {
  private heartbeatTimer?: TimerHandle;
  private heartbeatCount = 0;
  private heartbeatOk?: boolean;
  private closed = false;

  constructor(
    private readonly tracker: BottleTracker,
    private readonly link: PlcLink,
    private readonly opts: RejectWriterOptions,
    private readonly clock: Clock,
  ) {
    super();
    if (opts.heartbeatIntervalMs > 0) this.scheduleHeartbeat();
  }

  /** Write one verdict, settle its bottle, and report what happened. Never rejects. */
  async handle(verdict: Verdict): Promise<RejectReport> {
    const action = verdict.verdict === 'pass' ? 'accept' : 'reject';
    const bottle = this.tracker.get(verdict.bottleId);
    if (!bottle) {
      // Already settled (its deadline passed, or the line stopped): counted there, never written.
      this.tracker.settle(verdict.bottleId, { kind: 'failsafe', cause: 'late' });
      return this.report({ bottleId: verdict.bottleId, action, written: false, error: 'bottle already settled' }, undefined);
    }

    const uncertainCause = uncertainToCause(verdict);
    const slack = bottle.deadlineMs - this.clock.now();
    if (slack < this.opts.writeMarginMs) {
      return this.settle(bottle, action, false, { kind: 'failsafe', cause: 'late' },
        `only ${slack.toFixed(1)} ms left before the deadline`);
    }
    if (this.link.state !== 'connected') {
      return this.settle(bottle, action, false, { kind: 'failsafe', cause: 'plc_unreachable' }, `PLC link is ${this.link.state}`);
    }

    bottle.writePending = true;
    try {
      await this.link.write(this.verdictWrites(verdict, action), slack);
    } catch (err) {
      const cause: FailSafeCause = errorCode(err) === 'PLC_UNREACHABLE' ? 'plc_unreachable' : 'plc_write_failed';
      return this.settle(bottle, action, false, { kind: 'failsafe', cause }, errorMessage(err));
    } finally {
      bottle.writePending = false;
    }
    if (this.clock.now() > bottle.deadlineMs) {
      // The answer came after the deadline: the PLC may have taken it too late. Count it so.
      return this.settle(bottle, action, true, { kind: 'failsafe', cause: 'late' }, 'write confirmed after the deadline');
    }
    const outcome: Outcome = uncertainCause
      ? { kind: 'failsafe', cause: uncertainCause }
      : { kind: action === 'accept' ? 'accepted' : 'rejected' };
    return this.settle(bottle, action, true, outcome);
  }

  close(): void {
    this.closed = true;
    if (this.heartbeatTimer !== undefined) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.removeAllListeners();
  }

  private verdictWrites(verdict: Verdict, action: 'accept' | 'reject'): TagWrite[] {
    const { tags } = this.opts;
    return [
      { tag: tags.accept, type: 'Boolean', value: action === 'accept' },
      { tag: tags.reasonCode, type: 'Int16', value: verdict.reasonCode },
      // Written last: the PLC latches the verdict when the bottle id changes.
      { tag: tags.bottleId, type: 'UInt32', value: verdict.bottleId >>> 0 },
    ];
  }

  private settle(bottle: Bottle, action: 'accept' | 'reject', written: boolean, outcome: Outcome, error?: string): RejectReport {
    this.tracker.settle(bottle.id, outcome);
    return this.report({ bottleId: bottle.id, action, written, outcome, ...(error ? { error } : {}) }, bottle);
  }

  private report(partial: Omit<RejectReport, 'latencyMs' | 'slackMs'>, bottle: Bottle | undefined): RejectReport {
    const now = this.clock.now();
    const report: RejectReport = {
      ...partial,
      latencyMs: bottle ? round3(now - bottle.triggerTimeMs) : 0,
      slackMs: bottle ? round3(bottle.deadlineMs - now) : 0,
    };
    this.emit('report', report);
    return report;
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = this.clock.setTimeout(() => {
      void this.beat().finally(() => {
        if (!this.closed) this.scheduleHeartbeat();
      });
    }, this.opts.heartbeatIntervalMs);
  }

  private async beat(): Promise<void> {
    if (this.opts.inspecting && !this.opts.inspecting()) return this.heartbeatState(false, 'the line is not inspecting');
    if (this.link.state !== 'connected') return this.heartbeatState(false, `PLC link is ${this.link.state}`);
    this.heartbeatCount = (this.heartbeatCount + 1) >>> 0;
    try {
      await this.link.write([{ tag: this.opts.tags.heartbeat, type: 'UInt32', value: this.heartbeatCount }],
        this.opts.heartbeatIntervalMs);
      this.heartbeatState(true);
    } catch (err) {
      this.heartbeatState(false, errorMessage(err));
    }
  }

  private heartbeatState(ok: boolean, error?: string): void {
    if (ok === this.heartbeatOk || this.closed) return;
    this.heartbeatOk = ok;
    this.emit('heartbeat', ok, error);
  }
}

/** An uncertain verdict is written as a reject, and its bottle counted fail-safe by why. */
function uncertainToCause(verdict: Verdict): FailSafeCause | undefined {
  if (verdict.verdict !== 'uncertain') return undefined;
  if (verdict.reason === 'timeout') return 'timeout';
  if (verdict.reason === 'inspection_error') return 'inspection_error';
  return 'missing_view';
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
