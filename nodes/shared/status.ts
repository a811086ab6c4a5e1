import type { Node, NodeStatus } from './red';

/** The states every node of the package shows, each with one colour and shape. */
export type StatusKind = 'ok' | 'busy' | 'warn' | 'error' | 'idle';

const LOOK: Record<StatusKind, NodeStatus> = {
  ok: { fill: 'green', shape: 'dot' },
  busy: { fill: 'blue', shape: 'ring' },
  warn: { fill: 'yellow', shape: 'ring' },
  error: { fill: 'red', shape: 'ring' },
  idle: { fill: 'grey', shape: 'ring' },
};

/**
 * Shows a status, and leaves the node alone when nothing changed: status updates travel to every
 * open editor, so a node that reports per bottle must not repeat itself.
 */
export class StatusView {
  private last = '';

  constructor(private readonly node: Node) {}

  show(kind: StatusKind, text: string): void {
    const key = `${kind}|${text}`;
    if (key === this.last) return;
    this.last = key;
    this.node.status({ ...LOOK[kind], text });
  }

  clear(): void {
    this.last = '';
    this.node.status({});
  }
}

/** Throttles status text that changes with every bottle to a few updates a second. */
export class ThrottledStatus {
  private timer?: NodeJS.Timeout;
  private pending?: [StatusKind, string];

  constructor(private readonly view: StatusView, private readonly intervalMs = 250) {}

  show(kind: StatusKind, text: string): void {
    this.pending = [kind, text];
    if (this.timer) return;
    this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.flush();
    }, this.intervalMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    const [kind, text] = this.pending!;
    this.pending = undefined;
    this.view.show(kind, text);
  }
}
