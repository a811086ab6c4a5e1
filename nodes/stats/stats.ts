import { LineStats } from '../../lib/stats/stats';
import { num } from '../shared/config';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../shared/red';
import { startLineNode } from '../shared/setup';

/**
 * Production statistics of a line: what became of every bottle, verdicts, failures by reason,
 * timing percentiles and throughput. Sends them every interval, and on any input; an input with
 * topic `reset` starts the counts afresh.
 */
export = function register(RED: NodeAPI): void {
  function StatsNode(this: Node, def: NodeDef): void {
    const started = startLineNode(RED, this, def);
    if (!started) return;
    const { line, view, refuse } = started;
    const intervalS = num(def, 'intervalS', 5);
    if (!(intervalS === 0 || (intervalS >= 0.1 && intervalS <= 86_400))) {
      refuse(`interval must be 0 (only on input) or 0.1 to 86400 s, got ${def.intervalS}`);
      return;
    }

    const stats = new LineStats(line.tracker, line.clock);
    const emit = (send: SendFn = (m) => this.send(m)) => {
      const payload = {
        line: line.options.name || line.id,
        state: line.state,
        ...stats.snapshot(),
        cameras: line.cameraList().map((c) => ({ id: c.id, position: c.position, ...c.counters() })),
        pool: line.pool?.counters(),
        inspector: line.inspector?.counters(),
      };
      send({ topic: 'stats', payload });
      const b = payload.bottles;
      view.show(b.failsafe > 0 ? 'warn' : 'ok', RED._('stats.status.counts', {
        seen: b.seen, accepted: b.accepted, rejected: b.rejected, failsafe: b.failsafe,
        rate: payload.throughput.bottlesPerSecond.toFixed(1),
      }));
    };
    const timer = intervalS > 0 ? setInterval(() => emit(), intervalS * 1000) : undefined;
    view.show('idle', RED._('stats.status.waiting'));

    this.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      if (msg.topic === 'reset') stats.reset();
      emit(send);
      done();
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      stats.close();
      view.clear();
      done();
    });
  }

  RED.nodes.registerType('stats', StatsNode);
};
