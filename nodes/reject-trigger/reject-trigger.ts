import type { Verdict } from '../../lib/decision/decide';
import type { LinkState, PlcLink } from '../../lib/plc/types';
import { RejectWriter, validateRejectWriter, type RejectReport, type RejectWriterOptions } from '../../lib/reject/reject-writer';
import { num, str, type EndpointConfigNode } from '../shared/config';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../shared/red';
import { startLineNode } from '../shared/setup';
import { ErrorThrottle, ThrottledStatus } from '../shared/status';

/**
 * Tells the PLC each bottle's verdict before the bottle reaches the reject gate. The PLC treats a
 * bottle as faulty until told it is good; a verdict that would be late, or cannot be written, is
 * never sent late: the bottle is counted fail-safe and the PLC rejects it by default.
 */
/** An OPC UA NodeId in its text form: optional namespace, then i=, s=, g= or b= and the identifier. */
const NODE_ID = /^(ns=\d+;|nsu=[^;]+;)?[isgb]=.+$/;

export = function register(RED: NodeAPI): void {
  function RejectTriggerNode(this: Node, def: NodeDef): void {
    const started = startLineNode(RED, this, def);
    if (!started) return;
    const { line, view, refuse } = started;
    const status = new ThrottledStatus(view);
    const endpoint = RED.nodes.getNode(str(def, 'endpoint')) as unknown as EndpointConfigNode | null;
    const options: RejectWriterOptions = {
      tags: {
        bottleId: str(def, 'bottleIdTag', 'ns=1;s=Inspector.BottleId'),
        accept: str(def, 'acceptTag', 'ns=1;s=Inspector.Accept'),
        reasonCode: str(def, 'reasonTag', 'ns=1;s=Inspector.ReasonCode'),
        heartbeat: str(def, 'heartbeatTag', 'ns=1;s=Inspector.Heartbeat'),
      },
      writeMarginMs: num(def, 'writeMarginMs', 20),
      heartbeatIntervalMs: num(def, 'heartbeatIntervalMs', 500),
      inspecting: () => line.state === 'running' || line.state === 'finished',
    };
    const badTag = Object.entries(options.tags)
      .find(([name, tag]) => !(name === 'heartbeat' && options.heartbeatIntervalMs === 0) && !NODE_ID.test(tag));
    const problem = !endpoint ? 'no OPC UA endpoint selected'
      : !endpoint.acquire ? `OPC UA endpoint is invalid: ${endpoint.problem ?? 'unknown reason'}`
        : validateRejectWriter(options)
          ?? (badTag ? `the ${badTag[0]} tag "${badTag[1]}" is not an OPC UA NodeId such as ns=1;s=Inspector.Accept` : undefined)
          ?? (options.writeMarginMs >= line.deadlineBudgetMs
            ? `a write margin of ${options.writeMarginMs} ms leaves no time: bottles reach the gate ${Math.round(line.deadlineBudgetMs)} ms after their trigger`
            : undefined);
    if (problem || !endpoint?.acquire) {
      refuse(problem ?? '');
      return;
    }

    const link: PlcLink = endpoint.acquire(this);
    const writer = new RejectWriter(line.tracker, link, options, line.clock);
    const counts = { accepted: 0, rejected: 0, failsafe: 0 };

    const showLink = (state: LinkState, detail?: string) => {
      if (line.state === 'error') status.show('error', RED._('reject-trigger.status.lineDown'));
      else if (state === 'connected') status.show(counts.failsafe > 0 ? 'warn' : 'ok', RED._('reject-trigger.status.counts', counts));
      else status.show(state === 'connecting' ? 'busy' : 'error', RED._(`reject-trigger.status.${state}`, { detail: detail ?? '' }));
    };
    const onLineState = () => showLink(link.state);
    link.on('state', showLink);
    line.on('state', onLineState);
    showLink(link.state);
    writer.on('heartbeat', (ok: boolean, error?: string) => {
      // A line still starting up is expected to be silent; one that failed, or a PLC that refuses
      // the heartbeat, is worth a warning.
      if (!ok && link.state === 'connected' && line.state !== 'idle' && line.state !== 'starting') {
        this.warn(RED._('reject-trigger.errors.heartbeat', { reason: error ?? '' }));
      }
    });
    const writeErrors = new ErrorThrottle(30_000);

    this.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const verdict = msg.verdict as Verdict | undefined;
      if (!verdict || typeof verdict !== 'object' || !Number.isInteger(verdict.bottleId)
        || !['pass', 'fail', 'uncertain'].includes(verdict.verdict)) {
        done(new Error(RED._('reject-trigger.errors.noVerdict')));
        return;
      }
      writer.handle(verdict).then((report: RejectReport) => {
        if (report.outcome) {
          const kind = report.outcome.kind;
          counts[kind]++;
        }
        send({ topic: report.action, bottleId: report.bottleId, payload: report.action, reject: report });
        showLink(link.state);
        if (report.written || !report.error || !report.outcome) done();
        // Failed writes are logged (a wrong tag would otherwise reject every bottle in silence),
        // once per kind of failure and window, since the next bottle usually fails the same way.
        else writeErrors.report(done, RED._('reject-trigger.errors.notWritten', { bottle: report.bottleId, reason: report.error }),
          report.outcome.kind === 'failsafe' ? report.outcome.cause : 'other');
      }, (err: Error) => done(err));
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      link.off('state', showLink);
      line.off('state', onLineState);
      writer.close();
      endpoint.release?.(this);
      status.close();
      view.clear();
      done();
    });
  }

  RED.nodes.registerType('reject-trigger', RejectTriggerNode);
};
