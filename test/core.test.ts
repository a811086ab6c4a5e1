import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { BottleClassifier } from '../lib/decision/classifier';
import { decide, DEFAULT_DECISION, type Verdict } from '../lib/decision/decide';
import type { CameraPosition } from '../lib/frames/frame-ref';
import type { InspectionResult } from '../lib/inspection/types';
import { validateLine, DEFAULT_LINE, deadlineBudgetMs } from '../lib/line/line';
import type { LinkState, PlcLink, TagWrite } from '../lib/plc/types';
import { RejectWriter, validateRejectWriter } from '../lib/reject/reject-writer';
import { LineStats } from '../lib/stats/stats';
import { BottleTracker } from '../lib/tracking/tracker';
import { ManualClock } from '../lib/util/clock';
import { InspectionError } from '../lib/util/errors';

function view(bottleId: number, position: CameraPosition, defects: InspectionResult['defects'] = []): InspectionResult {
  return { bottleId, camera: position, position, ok: true, defects, score: 0, inspectMs: 1, latencyMs: 5, triggerTimeMs: 0 };
}

const crack = { type: 'deviation' as const, rect: { x: 1, y: 2, width: 3, height: 4 }, severity: 0.9, confidence: 0.9, areaPx: 12 };

/** A PLC link whose answers the test decides. */
class FakeLink extends EventEmitter implements PlcLink {
  state: LinkState = 'connected';
  writes: TagWrite[][] = [];
  answer: (writes: TagWrite[]) => Promise<void> = async () => undefined;
  connect(): void {}
  async write(writes: TagWrite[]): Promise<void> {
    this.writes.push(writes);
    return this.answer(writes);
  }
  async read(): Promise<number> { return 0; }
  async close(): Promise<void> {}
}

describe('decide', () => {
  const both: CameraPosition[] = ['top', 'left'];

  it('passes a bottle whose every view is clean', () => {
    const v = decide(1, 0, both, new Map([['top', view(1, 'top')], ['left', view(1, 'left')]]), DEFAULT_DECISION, 10);
    assert.equal(v.verdict, 'pass');
    assert.equal(v.reasonCode, 0);
  });

  it('fails on a confident, severe defect and names its type', () => {
    const v = decide(1, 0, both, new Map([['top', view(1, 'top', [crack])], ['left', view(1, 'left')]]), DEFAULT_DECISION, 10);
    assert.equal(v.verdict, 'fail');
    assert.equal(v.defectType, 'deviation');
    assert.equal(v.defects[0].position, 'top');
  });

  it('ignores defects below the minimum confidence or the sensitivity', () => {
    const weak = { ...crack, confidence: 0.2 };
    const faint = { ...crack, severity: 0.3 };
    const v = decide(1, 0, both, new Map([['top', view(1, 'top', [weak, faint])], ['left', view(1, 'left')]]), DEFAULT_DECISION, 10);
    assert.equal(v.verdict, 'pass');
  });

  it('tolerates up to the maximum number of defects', () => {
    const v = decide(1, 0, ['top'], new Map([['top', view(1, 'top', [crack])]]), { ...DEFAULT_DECISION, maxDefects: 1 }, 10);
    assert.equal(v.verdict, 'pass');
  });

  it('makes a bottle with a missing view uncertain, never good', () => {
    const v = decide(1, 0, both, new Map([['top', view(1, 'top')]]), DEFAULT_DECISION, 10);
    assert.equal(v.verdict, 'uncertain');
    assert.equal(v.reason, 'missing_view');
    assert.deepEqual(v.missingViews, ['left']);
  });

  it('makes a bottle whose view could not be inspected uncertain', () => {
    const bad = { ...view(1, 'top'), ok: false, error: { code: 'FRAME_EXPIRED', message: 'x' } };
    const v = decide(1, 0, ['top'], new Map([['top', bad]]), DEFAULT_DECISION, 10);
    assert.equal(v.verdict, 'uncertain');
    assert.equal(v.reason, 'inspection_error');
  });
});

describe('BottleTracker', () => {
  it('settles a bottle nobody decided as fail-safe at its deadline, once', () => {
    const clock = new ManualClock();
    const tracker = new BottleTracker(clock);
    const outcomes: unknown[] = [];
    tracker.on('outcome', (_b, o) => outcomes.push(o));
    const b = tracker.openBottle(clock.now(), clock.now() + 100);
    clock.advance(99);
    assert.equal(outcomes.length, 0);
    clock.advance(1);
    assert.deepEqual(outcomes, [{ kind: 'failsafe', cause: 'no_verdict' }]);
    assert.equal(tracker.settle(b.id, { kind: 'accepted' }), false, 'a second outcome is refused');
    assert.equal(tracker.counters().stray, 1);
    assert.equal(tracker.counters().failsafe.no_verdict, 1);
  });

  it('lets a write in flight at the deadline finish, with a backstop if it never reports', () => {
    const clock = new ManualClock();
    const tracker = new BottleTracker(clock, 500);
    const b = tracker.openBottle(clock.now(), clock.now() + 100);
    b.writePending = true;
    clock.advance(100);
    assert.equal(tracker.counters().open, 1);
    clock.advance(500);
    assert.equal(tracker.counters().open, 0);
    assert.equal(tracker.counters().failsafe.plc_write_failed, 1);
  });

  it('settles every open bottle as stopped when the line stops', () => {
    const clock = new ManualClock();
    const tracker = new BottleTracker(clock);
    tracker.openBottle(clock.now(), clock.now() + 100);
    tracker.openBottle(clock.now(), clock.now() + 100);
    tracker.settleAll('stopped');
    const c = tracker.counters();
    assert.equal(c.failsafe.stopped, 2);
    assert.equal(c.open, 0);
  });
});

describe('BottleClassifier', () => {
  const opts = { ...DEFAULT_DECISION, viewTimeoutMs: 200 };

  it('decides as soon as the last view is in', () => {
    const clock = new ManualClock();
    const c = new BottleClassifier(['top', 'left'], opts, clock);
    const verdicts: Verdict[] = [];
    c.on('verdict', (v: Verdict) => verdicts.push(v));
    c.open(1, clock.now());
    c.add(view(1, 'top'));
    assert.equal(verdicts.length, 0);
    c.add(view(1, 'left'));
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0].verdict, 'pass');
  });

  it('decides a bottle with a view still missing as uncertain when the wait ends', () => {
    const clock = new ManualClock();
    const c = new BottleClassifier(['top', 'left'], opts, clock);
    const verdicts: Verdict[] = [];
    c.on('verdict', (v: Verdict) => verdicts.push(v));
    c.open(1, clock.now());
    c.add(view(1, 'top'));
    clock.advance(200);
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0].verdict, 'uncertain');
    assert.equal(verdicts[0].reason, 'timeout');
    c.add(view(1, 'left'));
    assert.equal(verdicts.length, 1, 'a late view is not merged into anything');
    assert.equal(c.counters().lateViews, 1);
  });

  it('decides a bottle whose camera reported no frame without waiting', () => {
    const clock = new ManualClock();
    const c = new BottleClassifier(['top', 'left'], opts, clock);
    const verdicts: Verdict[] = [];
    c.on('verdict', (v: Verdict) => verdicts.push(v));
    c.open(1, clock.now());
    c.add(view(1, 'top'));
    c.markMissing(1, clock.now(), 'left');
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0].reason, 'missing_view');
  });

  it('gives a bottle no view ever reached a verdict too', () => {
    const clock = new ManualClock();
    const c = new BottleClassifier(['top'], opts, clock);
    const verdicts: Verdict[] = [];
    c.on('verdict', (v: Verdict) => verdicts.push(v));
    c.open(7, clock.now());
    clock.advance(250);
    assert.equal(verdicts[0].bottleId, 7);
    assert.equal(verdicts[0].verdict, 'uncertain');
  });
});

describe('RejectWriter', () => {
  const options = {
    tags: { bottleId: 'ns=1;s=B', accept: 'ns=1;s=A', reasonCode: 'ns=1;s=R', heartbeat: 'ns=1;s=H' },
    writeMarginMs: 20,
    heartbeatIntervalMs: 0,
  };

  function setup() {
    const clock = new ManualClock();
    const tracker = new BottleTracker(clock);
    const link = new FakeLink();
    const writer = new RejectWriter(tracker, link, options, clock);
    return { clock, tracker, link, writer };
  }

  function verdictFor(bottleId: number, kind: Verdict['verdict']): Verdict {
    return { bottleId, verdict: kind, reason: kind === 'pass' ? 'none' : kind === 'fail' ? 'defect' : 'missing_view',
      reasonCode: kind === 'pass' ? 0 : kind === 'fail' ? 1 : 2, defects: [], missingViews: [], triggerTimeMs: 0, decidedAtMs: 0 };
  }

  it('writes accept, reason and bottle id, bottle id last, with the exact types', async () => {
    const { clock, tracker, link, writer } = setup();
    const b = tracker.openBottle(clock.now(), clock.now() + 300);
    const report = await writer.handle(verdictFor(b.id, 'pass'));
    assert.equal(report.written, true);
    assert.deepEqual(report.outcome, { kind: 'accepted' });
    assert.deepEqual(link.writes[0], [
      { tag: 'ns=1;s=A', type: 'Boolean', value: true },
      { tag: 'ns=1;s=R', type: 'Int16', value: 0 },
      { tag: 'ns=1;s=B', type: 'UInt32', value: b.id },
    ]);
  });

  it('writes an uncertain bottle as a reject and counts it fail-safe', async () => {
    const { clock, tracker, link, writer } = setup();
    const b = tracker.openBottle(clock.now(), clock.now() + 300);
    const report = await writer.handle(verdictFor(b.id, 'uncertain'));
    assert.equal(report.action, 'reject');
    assert.equal(link.writes[0][0].value, false);
    assert.deepEqual(report.outcome, { kind: 'failsafe', cause: 'missing_view' });
  });

  it('never writes a verdict too close to its deadline', async () => {
    const { clock, tracker, link, writer } = setup();
    const b = tracker.openBottle(clock.now(), clock.now() + 300);
    clock.advance(290);
    const report = await writer.handle(verdictFor(b.id, 'fail'));
    assert.equal(report.written, false);
    assert.equal(link.writes.length, 0);
    assert.equal(tracker.counters().failsafe.late, 1);
  });

  it('never writes a verdict for a bottle already settled at its deadline', async () => {
    const { clock, tracker, link, writer } = setup();
    const b = tracker.openBottle(clock.now(), clock.now() + 300);
    clock.advance(300);
    const report = await writer.handle(verdictFor(b.id, 'pass'));
    assert.equal(report.written, false);
    assert.equal(link.writes.length, 0);
    assert.equal(tracker.counters().failsafe.no_verdict, 1);
    assert.equal(tracker.counters().seen, 1);
  });

  it('counts a bottle fail-safe when the PLC is unreachable or refuses the write', async () => {
    const { clock, tracker, link, writer } = setup();
    link.state = 'disconnected';
    const a = tracker.openBottle(clock.now(), clock.now() + 300);
    assert.deepEqual((await writer.handle(verdictFor(a.id, 'pass'))).outcome, { kind: 'failsafe', cause: 'plc_unreachable' });
    link.state = 'connected';
    link.answer = async () => { throw new InspectionError('PLC_WRITE_FAILED', 'BadTypeMismatch on ns=1;s=B'); };
    const b = tracker.openBottle(clock.now(), clock.now() + 300);
    const report = await writer.handle(verdictFor(b.id, 'pass'));
    assert.deepEqual(report.outcome, { kind: 'failsafe', cause: 'plc_write_failed' });
    assert.match(report.error ?? '', /BadTypeMismatch/);
  });

  it('counts a write answered only after the deadline as late', async () => {
    const { clock, tracker, link, writer } = setup();
    link.answer = async () => { clock.advance(400); };
    const b = tracker.openBottle(clock.now(), clock.now() + 300);
    const report = await writer.handle(verdictFor(b.id, 'pass'));
    assert.deepEqual(report.outcome, { kind: 'failsafe', cause: 'late' });
    assert.equal(tracker.counters().accepted, 0);
  });

  it('stops the heartbeat while the line is not inspecting, and resumes it after', async () => {
    const clock = new ManualClock();
    const tracker = new BottleTracker(clock);
    const link = new FakeLink();
    let inspecting = false;
    const changes: boolean[] = [];
    const writer = new RejectWriter(tracker, link, { ...options, heartbeatIntervalMs: 100, inspecting: () => inspecting }, clock);
    writer.on('heartbeat', (ok: boolean) => changes.push(ok));
    for (let i = 0; i < 5; i++) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(link.writes.length, 0, 'no heartbeat while the line is not inspecting');
    inspecting = true;
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(link.writes.map((w) => w[0].value), [1, 2, 3]);
    assert.equal(link.writes[0][0].type, 'UInt32');
    assert.deepEqual(changes, [false, true]);
    writer.close();
  });

  it('validates its options, naming the bad one', () => {
    assert.match(validateRejectWriter({ ...options, writeMarginMs: -1 }) ?? '', /write margin/);
    assert.match(validateRejectWriter({ ...options, tags: { ...options.tags, accept: ' ' } }) ?? '', /accept tag/);
    assert.match(validateRejectWriter({ ...options, heartbeatIntervalMs: 10 }) ?? '', /heartbeat interval/);
  });
});

describe('LineStats', () => {
  it('adds accepted, rejected, fail-safe and in-flight up to bottles seen, across a reset', () => {
    const clock = new ManualClock();
    const tracker = new BottleTracker(clock);
    const stats = new LineStats(tracker, clock);
    const ids = Array.from({ length: 5 }, () => tracker.openBottle(clock.now(), clock.now() + 100).id);
    clock.advance(10);
    tracker.settle(ids[0], { kind: 'accepted' });
    tracker.settle(ids[1], { kind: 'rejected' });
    stats.reset();
    tracker.settle(ids[2], { kind: 'accepted' });
    clock.advance(100);
    const s = stats.snapshot();
    assert.equal(s.bottles.seen, 3);
    assert.equal(s.bottles.accepted, 1);
    assert.equal(s.bottles.failsafe, 2);
    assert.equal(s.failsafeByCause.no_verdict, 2);
    assert.equal(s.bottles.inFlight, 0);
    assert.equal(s.timing.outcome.count, 3);
    assert.equal(s.timing.outcome.maxMs, 100);
  });
});

describe('line options', () => {
  const ok = { id: 'l', ...DEFAULT_LINE };

  it('accept the defaults', () => {
    assert.equal(validateLine(ok), undefined);
    assert.equal(deadlineBudgetMs(ok), 800 / 2 - 30);
  });

  it('name what is wrong', () => {
    assert.match(validateLine({ ...ok, triggerRateHz: 0 }) ?? '', /trigger rate .* got 0/);
    assert.match(validateLine({ ...ok, positions: [] }) ?? '', /camera position/);
    assert.match(validateLine({ ...ok, positions: ['top', 'top'] }) ?? '', /only once/);
    assert.match(validateLine({ ...ok, positions: ['front' as CameraPosition] }) ?? '', /unknown camera position "front"/);
    assert.match(validateLine({ ...ok, conveyorSpeedMps: NaN }) ?? '', /conveyor speed/);
    assert.match(validateLine({ ...ok, actuatorLeadMs: 500 }) ?? '', /reject gate/);
  });
});
