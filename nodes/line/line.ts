import type { CameraPosition } from '../../lib/frames/frame-ref';
import { DEFAULT_LINE, Line, type LineOptions } from '../../lib/line/line';
import { errorMessage } from '../../lib/util/errors';
import { num, str, type LineConfigNode } from '../shared/config';
import type { Node, NodeAPI, NodeDef } from '../shared/red';

/**
 * Config node for one inspection line. It owns the line's core (frame pool, inspection threads,
 * bottle tracker, trigger) and starts triggering once the flows have started and every camera is
 * ready. Nodes that use it show its state; a config node has no status of its own.
 */
export = function register(RED: NodeAPI): void {
  function LineNode(this: Node & LineConfigNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const options: LineOptions = {
      id: def.id,
      name: str(def, 'name'),
      positions: parsePositions(str(def, 'positions', DEFAULT_LINE.positions.join(','))),
      triggerRateHz: num(def, 'triggerRateHz', DEFAULT_LINE.triggerRateHz),
      maxBottles: num(def, 'maxBottles', DEFAULT_LINE.maxBottles),
      conveyorSpeedMps: num(def, 'conveyorSpeedMps', DEFAULT_LINE.conveyorSpeedMps),
      cameraToRejectMm: num(def, 'cameraToRejectMm', DEFAULT_LINE.cameraToRejectMm),
      actuatorLeadMs: num(def, 'actuatorLeadMs', DEFAULT_LINE.actuatorLeadMs),
      poolSlots: num(def, 'poolSlots', DEFAULT_LINE.poolSlots),
      inspectionThreads: num(def, 'inspectionThreads', DEFAULT_LINE.inspectionThreads),
    };

    try {
      this.line = new Line(options);
    } catch (err) {
      this.problem = errorMessage(err);
      this.error(RED._('line.errors.invalid', { reason: this.problem }));
      return;
    }
    const line = this.line;

    const start = (): void => {
      line.start().catch((err: unknown) => {
        this.error(RED._('line.errors.start', { reason: errorMessage(err) }));
      });
    };
    line.on('state', (state: string) => {
      if (state === 'running') this.log(RED._('line.log.running', { name: options.name || def.id }));
    });
    RED.events.on('flows:started', start);

    this.on('close', (_removed: boolean, done: () => void) => {
      RED.events.off('flows:started', start);
      line.close();
      done();
    });
  }

  RED.nodes.registerType('line', LineNode);
};

function parsePositions(text: string): CameraPosition[] {
  // Unknown or repeated positions are kept, so that validation can name them.
  return text.split(/[\s,]+/).filter(Boolean).map((p) => p.toLowerCase() as CameraPosition);
}
