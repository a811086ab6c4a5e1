import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import type { Line } from '../lib/line/line';
import type { FrameRef } from '../lib/frames/frame-ref';
import type { SimPlc } from '../lib/plc/sim-plc';
import type { StatsSnapshot } from '../lib/stats/stats';
import type { NodeMessage } from '../nodes/shared/red';
import { allNodes } from './support/nodes';
import { ID, lineFlow } from './support/flow';
import { startPlc } from './support/plc';
import { waitFor } from './support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hooks } = require('@node-red/util') as { hooks: { add(id: string, fn: (e: unknown) => void): void; remove(id: string): void } };

helper.init(require.resolve('node-red'));

type AnyNode = { on(event: string, fn: (arg: never) => void): void; line?: Line };

function node(id: string): AnyNode {
  const n = helper.getNode(id) as unknown as AnyNode | null;
  assert.ok(n, `node ${id} is loaded`);
  return n;
}

function collect(id: string): NodeMessage[] {
  const out: NodeMessage[] = [];
  node(id).on('input', (msg: never) => out.push(msg));
  return out;
}

type SpyCall = { thisValue: { id: string }; args: unknown[] };
type Spied = { getCalls(): SpyCall[] };

/**
 * Calls of a Node method made by one node, from the start of the flow. The test helper spies on
 * the shared Node prototype, so the calls of every node are there; keep this node's.
 */
function callsOf(id: string, method: 'status' | 'error' | 'warn'): unknown[][] {
  const n = helper.getNode(id) as unknown as Record<string, Spied>;
  return n[method].getCalls().filter((c) => c.thisValue.id === id).map((c) => c.args);
}

function statuses(id: string): { fill?: string; text?: string }[] {
  return callsOf(id, 'status').map((args) => args[0] as { fill?: string; text?: string });
}

function errors(id: string): string[] {
  return callsOf(id, 'error').map((args) => String(args[0]));
}

describe('a line of five nodes in a Node-RED runtime', function () {
  this.timeout(60_000);
  let plc: SimPlc;

  before(async () => {
    plc = await startPlc();
  });

  after(async () => {
    await plc.stop();
  });

  beforeEach((done) => {
    helper.startServer(done);
  });

  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('gives every bottle exactly one verdict and one outcome, written to the PLC', async () => {
    const sizes: number[] = [];
    hooks.add('onSend.sizeCheck', (events: unknown) => {
      for (const e of events as { msg: unknown }[]) sizes.push(Buffer.byteLength(JSON.stringify(e.msg)));
    });
    try {
      await helper.load(allNodes, lineFlow({ endpointUrl: plc.endpointUrl }));
      const verdicts = collect(ID.verdicts);
      const rejects = collect(ID.rejects);
      const frames = collect(ID.frames);
      const stats = collect(ID.statsOut);
      const line = node(ID.line).line!;
      const before = plc.counters();

      await waitFor('20 bottles settled', () => line.state === 'finished' && line.tracker.counters().open === 0, 30_000);
      await waitFor('20 verdicts and 20 reject reports', () => verdicts.length >= 20 && rejects.length >= 20);
      await waitFor('a stats message after the last bottle', () =>
        stats.some((m) => (m.payload as StatsSnapshot).bottles.seen === 20 && (m.payload as StatsSnapshot).bottles.inFlight === 0));

      const ids = verdicts.map((m) => (m.verdict as { bottleId: number }).bottleId);
      assert.equal(ids.length, 20, 'one verdict per bottle');
      assert.deepEqual([...new Set(ids)].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(frames.length, 40, 'two views per bottle');

      const c = line.tracker.counters();
      const failsafe = Object.values(c.failsafe).reduce((a, b) => a + b, 0);
      assert.equal(c.seen, 20);
      assert.equal(c.accepted + c.rejected + failsafe, 20, 'outcomes add up to bottles seen');
      assert.equal(c.stray, 0);

      const kinds = new Set(verdicts.map((m) => m.payload));
      assert.ok(kinds.has('pass'), 'good bottles pass');
      assert.ok(kinds.has('fail'), 'defective bottles fail');

      const written = rejects.filter((m) => (m.reject as { written: boolean }).written).length;
      assert.ok(written >= 18, `verdicts written in time: ${written} of 20`);
      const after = plc.counters();
      assert.equal(after.accepted + after.rejected - before.accepted - before.rejected, written, 'the PLC counted every write');
      assert.equal(c.accepted, after.accepted - before.accepted);

      const last = stats.at(-1)!.payload as StatsSnapshot;
      assert.equal(last.bottles.accepted + last.bottles.rejected + last.bottles.failsafe, 20);
      assert.equal(last.verdicts.pass + last.verdicts.fail + last.verdicts.uncertain, 20);
      assert.ok(last.timing.verdict.count === 20 && last.timing.verdict.p99Ms > 0);

      assert.ok(sizes.length > 100, `messages measured: ${sizes.length}`);
      assert.ok(Math.max(...sizes) < 64 * 1024, `largest message ${Math.max(...sizes)} bytes`);
    } finally {
      hooks.remove('onSend.sizeCheck');
    }
  });

  it('fails a stale frame reference with a clear error instead of inspecting other pixels', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: plc.endpointUrl, lineOverrides: { poolSlots: '16', maxBottles: '12' } }));
    const frames = collect(ID.frames);
    const inspections = collect(ID.inspections);
    const line = node(ID.line).line!;
    await waitFor('12 bottles settled', () => line.state === 'finished' && line.tracker.counters().open === 0, 30_000);

    const first = frames.find((m) => (m.frame as FrameRef).position === 'top')!.frame as FrameRef;
    assert.equal(line.pool!.isValid(first), false, 'the first slot has been reused by now');
    const seen = inspections.length;
    helper.getNode(ID.inspectTop).receive({ frame: first });
    await waitFor('the stale frame to be answered', () => inspections.length > seen && errors(ID.inspectTop).length > 0);

    const result = inspections.at(-1)!.inspection as { ok: boolean; error: { code: string; message: string } };
    assert.equal(result.ok, false);
    assert.equal(result.error.code, 'FRAME_EXPIRED');
    assert.match(errors(ID.inspectTop).at(-1)!, /expired/i);
  });

  it('teaches a grey reference when grey frames arrive, and inspects them once it is ready', async () => {
    await helper.load(allNodes, lineFlow({
      endpointUrl: plc.endpointUrl, lineOverrides: { maxBottles: '40' }, cameraOverrides: { grey: true },
    }));
    const inspections = collect(ID.inspections);
    const line = node(ID.line).line!;
    await waitFor('40 bottles settled', () => line.state === 'finished' && line.tracker.counters().open === 0, 30_000);

    const top = inspections.map((m) => m.inspection as { position: string; ok: boolean; error?: { code: string } })
      .filter((r) => r.position === 'top');
    assert.equal(top.length, 40);
    assert.ok(top.slice(0, 1).every((r) => r.error?.code === 'NOT_TAUGHT'), 'the first grey frame waits for its reference');
    assert.ok(top.slice(-4).every((r) => r.ok), 'grey frames are inspected once the grey reference is taught');
  });

  it('refuses a malformed inspection result in classify with a clear error, and keeps running', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: plc.endpointUrl, lineOverrides: { maxBottles: '6' } }));
    const line = node(ID.line).line!;
    const classify = helper.getNode(ID.classify);
    classify.receive({ inspection: { bottleId: 999999, position: 'top' } });
    classify.receive({ inspection: { bottleId: 1, position: 'top', ok: true, triggerTimeMs: 0, defects: null } });
    classify.receive({ inspection: { bottleId: 1, position: 'front', ok: true, triggerTimeMs: 0, defects: [] } });
    await waitFor('three errors from classify', () => errors(ID.classify).length >= 3);
    const errs = errors(ID.classify);
    assert.match(errs[0], /ok must be true or false/);
    assert.match(errs[1], /defects must be a list/);
    assert.match(errs[2], /position must be one of the line's positions \(top, left\), got front/);
    await waitFor('6 bottles settled', () => line.state === 'finished' && line.tracker.counters().open === 0, 30_000);
    assert.equal(line.tracker.counters().seen, 6, 'the line ran on');
  });

  it('refuses a PLC tag that is not an OPC UA NodeId, naming it', async () => {
    const flow = lineFlow({ endpointUrl: plc.endpointUrl });
    Object.assign(flow.find((n) => n.id === ID.reject)!, { acceptTag: 'garbage;;' });
    await helper.load(allNodes, flow);
    const shown = statuses(ID.reject).at(-1)!;
    assert.equal(shown.fill, 'red');
    assert.match(shown.text ?? '', /accept tag "garbage;;" is not an OPC UA NodeId/);
  });

  it('counts every bottle fail-safe when the PLC is down, without crashing', async () => {
    const down = await startPlc();
    const url = down.endpointUrl;
    await down.stop();
    await helper.load(allNodes, lineFlow({ endpointUrl: url, lineOverrides: { maxBottles: '10' } }));
    const rejects = collect(ID.rejects);
    const line = node(ID.line).line!;
    await waitFor('10 bottles settled', () => line.state === 'finished' && line.tracker.counters().open === 0, 30_000);
    // Node-RED delivers messages asynchronously: the last report may still be on its way.
    await waitFor('10 reject reports', () => rejects.length >= 10);

    const c = line.tracker.counters();
    assert.equal(c.seen, 10);
    assert.equal(c.accepted + c.rejected, 0, 'nothing is accepted or rejected without the PLC');
    const failsafe = Object.values(c.failsafe).reduce((a, b) => a + b, 0);
    assert.equal(failsafe, 10, `every bottle fail-safe: ${JSON.stringify(c.failsafe)}`);
    // A bottle slowed past its view wait on a busy machine is fail-safe for that reason instead.
    assert.ok(c.failsafe.plc_unreachable >= 8, JSON.stringify(c.failsafe));
    assert.equal(rejects.length, 10);
    assert.ok(rejects.every((m) => (m.reject as { written: boolean }).written === false));
    assert.ok(statuses(ID.reject).some((s) => s.fill === 'red'), 'reject-trigger shows the link down in red');
  });

  it('shows a clear status and error for an image folder that does not exist', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: plc.endpointUrl, cameraOverrides: { folder: '/no/such/folder' } }));
    await waitFor('the camera to report its folder', () => errors(ID.top).length > 0);
    assert.match(errors(ID.top)[0], /\/no\/such\/folder/);
    await waitFor('a red status', () => statuses(ID.top).some((s) => s.fill === 'red' && /\/no\/such\/folder/.test(s.text ?? '')));
    const line = node(ID.line).line!;
    await waitFor('the line to refuse to start', () => line.state === 'error');
    assert.equal(line.bottlesTriggered, 0);
  });

  it('shows a clear status and error for a trigger rate of zero', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: plc.endpointUrl, lineOverrides: { triggerRateHz: '0' } }));
    assert.equal(node(ID.line).line, undefined, 'no line is built from a bad config');
    assert.match(errors(ID.line)[0], /trigger rate must be above 0 .*got 0/);
    const shown = statuses(ID.top).at(-1)!;
    assert.equal(shown.fill, 'red');
    assert.match(shown.text ?? '', /trigger rate must be above 0/);
  });

  it('shows a clear status for a PLC endpoint nobody answers on', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: 'opc.tcp://127.0.0.1:9', lineOverrides: { maxBottles: '2' } }));
    await waitFor('the reject-trigger to show the link down', () => statuses(ID.reject).some((s) => s.fill === 'red'), 5000);
    assert.match(statuses(ID.reject).filter((s) => s.fill === 'red').at(-1)!.text ?? '', /disconnected|not reachable|down/i);
  });

  it('rejects an endpoint URL that is not opc.tcp with a clear error', async () => {
    await helper.load(allNodes, lineFlow({ endpointUrl: 'http://127.0.0.1:4840' }));
    assert.match(errors(ID.endpoint)[0], /opc\.tcp/);
    const shown = statuses(ID.reject).at(-1)!;
    assert.equal(shown.fill, 'red');
    assert.match(shown.text ?? '', /opc\.tcp/);
  });
});
