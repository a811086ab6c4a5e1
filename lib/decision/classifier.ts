import { EventEmitter } from 'node:events';
import type { CameraPosition } from '../frames/frame-ref';
import type { InspectionResult } from '../inspection/types';
import type { Clock, TimerHandle } from '../util/clock';
import { decide, validateDecision, type DecisionOptions, type Verdict } from './decide';

export interface ClassifierOptions extends DecisionOptions {
  /** How long after its trigger a bottle may wait for its views before it is decided without them. */
  viewTimeoutMs: number;
}

export interface ClassifierCounters {
  pending: number;
  decided: number;
  timedOut: number;
  /** Views that came for a bottle already decided, or twice for one position. */
  lateViews: number;
  duplicateViews: number;
}

/** How many decided bottle ids are remembered, to tell a late view from a new bottle. */
const DECIDED_MEMORY = 4096;

export function validateClassifier(o: ClassifierOptions): string | undefined {
  const problem = validateDecision(o);
  if (problem) return problem;
  if (!(o.viewTimeoutMs > 0 && o.viewTimeoutMs <= 60_000)) {
    return `view timeout must be above 0 and at most 60000 ms, got ${o.viewTimeoutMs}`;
  }
  return undefined;
}

/**
 * Collects the views of each bottle and decides it once: as soon as every expected view is in, or
 * when the view timeout passes with some still missing (then the bottle is uncertain). A view that
 * arrives after its bottle was decided is counted, never merged into another bottle.
 *
 * Events: 'verdict' (verdict) for every decision, whether complete or timed out.
 */
export class BottleClassifier extends EventEmitter {
  private readonly pending = new Map<number, {
    triggerTimeMs: number;
    views: Map<CameraPosition, InspectionResult>;
    /** Positions whose camera said it has no frame for this bottle. */
    missing: Set<CameraPosition>;
    timer: TimerHandle;
  }>();
  private readonly decided = new Set<number>();
  private readonly counts = { decided: 0, timedOut: 0, lateViews: 0, duplicateViews: 0 };

  constructor(
    private readonly positions: readonly CameraPosition[],
    private readonly opts: ClassifierOptions,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** Start waiting for a bottle's views (called when its trigger fires). */
  open(bottleId: number, triggerTimeMs: number): void {
    if (this.pending.has(bottleId) || this.decided.has(bottleId)) return;
    const waitMs = triggerTimeMs + this.opts.viewTimeoutMs - this.clock.now();
    const timer = this.clock.setTimeout(() => this.finish(bottleId, true), waitMs);
    this.pending.set(bottleId, { triggerTimeMs, views: new Map(), missing: new Set(), timer });
  }

  /** Add one view's result; decides the bottle when it was the last view missing. */
  add(result: InspectionResult): void {
    if (this.decided.has(result.bottleId)) {
      this.counts.lateViews++;
      return;
    }
    this.open(result.bottleId, result.triggerTimeMs);
    const entry = this.pending.get(result.bottleId)!;
    if (entry.views.has(result.position) || !this.positions.includes(result.position)) {
      this.counts.duplicateViews++;
      return;
    }
    entry.views.set(result.position, result);
    this.finishIfComplete(result.bottleId);
  }

  /** A camera has no frame for this bottle: decide without waiting for the timeout. */
  markMissing(bottleId: number, triggerTimeMs: number, position: CameraPosition): void {
    if (this.decided.has(bottleId) || !this.positions.includes(position)) return;
    this.open(bottleId, triggerTimeMs);
    this.pending.get(bottleId)!.missing.add(position);
    this.finishIfComplete(bottleId);
  }

  counters(): ClassifierCounters {
    return { pending: this.pending.size, ...this.counts };
  }

  /** Decide every pending bottle now, with what it has (the flow is stopping). */
  flush(): void {
    for (const id of [...this.pending.keys()]) this.finish(id, true);
  }

  close(): void {
    for (const entry of this.pending.values()) this.clock.clearTimeout(entry.timer);
    this.pending.clear();
    this.removeAllListeners();
  }

  private finishIfComplete(bottleId: number): void {
    const entry = this.pending.get(bottleId);
    if (entry && entry.views.size + entry.missing.size >= this.positions.length) this.finish(bottleId, false);
  }

  private finish(bottleId: number, timedOut: boolean): void {
    const entry = this.pending.get(bottleId);
    if (!entry) return;
    this.pending.delete(bottleId);
    this.clock.clearTimeout(entry.timer);
    this.remember(bottleId);
    this.counts.decided++;
    if (timedOut && entry.views.size < this.positions.length) this.counts.timedOut++;
    const verdict = decide(bottleId, entry.triggerTimeMs, this.positions, entry.views, this.opts, this.clock.now(), timedOut);
    this.emit('verdict', verdict);
  }

  private remember(bottleId: number): void {
    this.decided.add(bottleId);
    if (this.decided.size > DECIDED_MEMORY) {
      const oldest = this.decided.values().next().value as number;
      this.decided.delete(oldest);
    }
  }
}
