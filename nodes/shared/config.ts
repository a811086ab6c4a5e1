import path from 'node:path';
import type { Line } from '../../lib/line/line';
import type { PlcLink } from '../../lib/plc/types';
import type { Node, NodeAPI, NodeDef } from './red';

/** Reads a number from a node's config; blank gives the default, anything else not a number is NaN. */
export function num(def: NodeDef, key: string, fallback: number): number {
  const raw = def[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  return Number.isFinite(n) ? n : NaN;
}

export function str(def: NodeDef, key: string, fallback = ''): string {
  const raw = def[key];
  return raw === undefined || raw === null ? fallback : String(raw).trim();
}

export function bool(def: NodeDef, key: string, fallback = false): boolean {
  const raw = def[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  return raw === true || raw === 'true';
}

/** The package's own sample images, for paths written as `@samples/...`. */
export const SAMPLES_DIR = path.resolve(__dirname, '..', '..', '..', 'examples', 'images');

/**
 * Resolves a folder typed into a node: `@samples/x` is a folder of the sample images that come with
 * the package, an absolute path stays as it is, and a relative path is taken from Node-RED's user
 * directory (where flows.json lives).
 */
export function resolveFolder(RED: NodeAPI, folder: string): string {
  if (folder.startsWith('@samples/') || folder === '@samples') {
    return path.join(SAMPLES_DIR, folder.slice('@samples'.length));
  }
  if (path.isAbsolute(folder)) return folder;
  return path.resolve(RED.settings.userDir ?? process.cwd(), folder);
}

/** What a `line` config node offers the nodes that use it. */
export interface LineConfigNode {
  line?: Line;
  /** Set when the line's config is invalid: the reason, for the user nodes to show. */
  problem?: string;
}

/**
 * Finds the line a node is wired to. Returns the line, or a message naming what is wrong, so every
 * node reports a missing or broken line the same way.
 */
export function findLine(RED: NodeAPI, lineId: unknown): { line: Line } | { problem: string } {
  if (typeof lineId !== 'string' || lineId === '') return { problem: 'no line selected' };
  const node = RED.nodes.getNode(lineId) as unknown as LineConfigNode | null;
  if (!node) return { problem: `line ${lineId} not found` };
  if (!node.line) return { problem: `line config is invalid: ${node.problem ?? 'unknown reason'}` };
  return { line: node.line };
}

/** What an `opcua-endpoint` config node offers the nodes that use it. */
export interface EndpointConfigNode {
  /** One connection, shared by every node that uses this endpoint; connected on first use. */
  acquire?(user: Node): PlcLink;
  release?(user: Node): void;
  /** Set when the endpoint's config is invalid: the reason, for the user nodes to show. */
  problem?: string;
}
