import type { Line } from '../../lib/line/line';
import { findLine } from './config';
import type { Node, NodeAPI, NodeDef } from './red';
import { StatusView } from './status';

export interface LineNode {
  line: Line;
  view: StatusView;
  /** Show a config problem on the node and log it; the node then stays idle. */
  refuse(problem: string): void;
}

/**
 * The start every flow node of the package shares: create the node, find its line, and report a
 * missing line or a bad setting the same way everywhere (a red status naming the problem and an
 * error in the log, under the node's own `errors.line` and `errors.config` texts).
 * Returns undefined when there is no usable line.
 */
export function startLineNode(RED: NodeAPI, node: Node, def: NodeDef): LineNode | undefined {
  RED.nodes.createNode(node, def);
  const view = new StatusView(node);
  const report = (key: 'line' | 'config', problem: string) => {
    view.show('error', problem);
    node.error(RED._(`${def.type}.errors.${key}`, { reason: problem }));
  };
  const found = findLine(RED, def.line);
  if ('problem' in found) {
    report('line', found.problem);
    return undefined;
  }
  return { line: found.line, view, refuse: (problem) => report('config', problem) };
}
