import * as hdr from 'hdr-histogram-js';
import type { Verdict } from '../decision/decide';
import { FAIL_SAFE_CAUSES, type Bottle, type BottleTracker, type FailSafeCause, type Outcome } from '../tracking/tracker';
import type { Clock } from '../util/clock';

export interface LatencySummary {
  count: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export interface StatsSnapshot {
  since: string;
  at: string;
  /** Bottles triggered since the last reset, and what became of them. */
  bottles: {
    seen: number;
    accepted: number;
    rejected: number;
    failsafe: number;
    inFlight: number;
  };
  failsafeByCause: Record<FailSafeCause, number>;
  verdicts: { pass: number; fail: number; uncertain: number };
  failuresByReason: Record<string, number>;
  defectsByType: Record<string, number>;
  /** Trigger to verdict, and trigger to outcome (PLC written or fail-safe). */
  timing: { verdict: LatencySummary; outcome: LatencySummary };
  throughput: { bottlesPerSecond: number; windowS: number; sinceResetPerSecond: number };
}

/** Histograms record microseconds: a millisecond resolution would hide what matters at 36 ms a bottle. */
const US_PER_MS = 1000;
const THROUGHPUT_WINDOW_MS = 10_000;

/**
 * Production statistics of one line, fed by its bottle tracker. Every bottle seen is in exactly one
 * of accepted, rejected, fail-safe or in flight, so the four always add up to `seen`.
 */
export class LineStats {
  private sinceMs = 0;
  private seen = 0;
  private accepted = 0;
  private rejected = 0;
  private failsafe = emptyCauses();
  private verdicts = { pass: 0, fail: 0, uncertain: 0 };
  private reasons: Record<string, number> = {};
  private defects: Record<string, number> = {};
  private readonly verdictLatency = newHistogram();
  private readonly outcomeLatency = newHistogram();
  /** Outcome times within the throughput window, oldest first. */
  private recent: number[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly listeners: [string, (...args: any[]) => void][];

  constructor(private readonly tracker: BottleTracker, private readonly clock: Clock) {
    this.listeners = [
      ['open', () => this.onOpen()],
      ['verdict', (bottle: Bottle, verdict: Verdict) => this.onVerdict(bottle, verdict)],
      ['outcome', (bottle: Bottle, outcome: Outcome) => this.onOutcome(bottle, outcome)],
    ];
    for (const [event, fn] of this.listeners) tracker.on(event, fn);
    this.reset();
  }

  /** Start counting afresh. Bottles on the line now are counted as seen, so the sums still hold. */
  reset(): void {
    this.sinceMs = this.clock.now();
    this.seen = this.tracker.counters().open;
    this.accepted = 0;
    this.rejected = 0;
    this.failsafe = emptyCauses();
    this.verdicts = { pass: 0, fail: 0, uncertain: 0 };
    this.reasons = {};
    this.defects = {};
    this.verdictLatency.reset();
    this.outcomeLatency.reset();
    this.recent = [];
  }

  snapshot(): StatsSnapshot {
    const now = this.clock.now();
    this.trimRecent(now);
    const failsafe = Object.values(this.failsafe).reduce((a, b) => a + b, 0);
    const windowMs = Math.min(THROUGHPUT_WINDOW_MS, Math.max(1, now - this.sinceMs));
    const settled = this.accepted + this.rejected + failsafe;
    return {
      since: new Date(this.sinceMs).toISOString(),
      at: new Date(now).toISOString(),
      bottles: {
        seen: this.seen,
        accepted: this.accepted,
        rejected: this.rejected,
        failsafe,
        inFlight: this.seen - settled,
      },
      failsafeByCause: { ...this.failsafe },
      verdicts: { ...this.verdicts },
      failuresByReason: { ...this.reasons },
      defectsByType: { ...this.defects },
      timing: { verdict: summarize(this.verdictLatency), outcome: summarize(this.outcomeLatency) },
      throughput: {
        bottlesPerSecond: round3((this.recent.length * 1000) / windowMs),
        windowS: round3(windowMs / 1000),
        sinceResetPerSecond: round3((settled * 1000) / Math.max(1, now - this.sinceMs)),
      },
    };
  }

  close(): void {
    for (const [event, fn] of this.listeners) this.tracker.off(event, fn);
  }

  private onOpen(): void {
    this.seen++;
  }

  private onVerdict(bottle: Bottle, verdict: Verdict): void {
    this.verdicts[verdict.verdict]++;
    if (verdict.verdict !== 'pass') {
      const key = verdict.defectType ?? verdict.reason;
      this.reasons[key] = (this.reasons[key] ?? 0) + 1;
    }
    for (const d of verdict.defects) this.defects[d.type] = (this.defects[d.type] ?? 0) + 1;
    record(this.verdictLatency, verdict.decidedAtMs - bottle.triggerTimeMs);
  }

  private onOutcome(bottle: Bottle, outcome: Outcome): void {
    const now = this.clock.now();
    if (outcome.kind === 'failsafe') this.failsafe[outcome.cause]++;
    else if (outcome.kind === 'accepted') this.accepted++;
    else this.rejected++;
    record(this.outcomeLatency, now - bottle.triggerTimeMs);
    this.recent.push(now);
    this.trimRecent(now);
  }

  private trimRecent(now: number): void {
    let drop = 0;
    while (drop < this.recent.length && this.recent[drop] < now - THROUGHPUT_WINDOW_MS) drop++;
    if (drop > 0) this.recent.splice(0, drop);
  }
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

function record(h: hdr.Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * US_PER_MS)));
}

function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => round3(us / US_PER_MS);
  if (h.totalCount === 0) return { count: 0, minMs: 0, avgMs: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0 };
  return {
    count: h.totalCount,
    minMs: ms(h.minNonZeroValue),
    avgMs: ms(h.mean),
    maxMs: ms(h.maxValue),
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
  };
}

function emptyCauses(): Record<FailSafeCause, number> {
  return Object.fromEntries(FAIL_SAFE_CAUSES.map((c) => [c, 0])) as Record<FailSafeCause, number>;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
