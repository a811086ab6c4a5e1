/**
 * The part of the Node-RED runtime API these nodes use, typed here so the nodes compile strictly
 * without pulling in a full set of third-party typings.
 */
import type { EventEmitter } from 'node:events';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export type SendFn = (msg: NodeMessage | (NodeMessage | null)[] | null) => void;
export type DoneFn = (err?: Error) => void;

export interface Node extends EventEmitter {
  id: string;
  type: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  status(status: NodeStatus | Record<string, never>): void;
  send(msg: NodeMessage | (NodeMessage | null)[] | null): void;
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string | Error, message?: NodeMessage): void;
  debug(msg: string): void;
  on(event: 'input', fn: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): this;
  on(event: 'close', fn: (removed: boolean, done: () => void) => void): this;
  on(event: string, fn: (...args: never[]) => void): this;
}

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    registerType(type: string, ctor: (this: Node, def: NodeDef) => void, opts?: Record<string, unknown>): void;
    getNode(id: string): Node | null;
  };
  events: EventEmitter;
  settings: { userDir?: string; [key: string]: unknown };
  _: (key: string, substitutions?: Record<string, unknown>) => string;
}
