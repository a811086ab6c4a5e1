import fs from 'node:fs';
import path from 'node:path';
import type { NodeAPI } from '../../nodes/shared/red';

/** The package's node types, as package.json declares them. */
const TYPES = ['line', 'opcua-endpoint', 'gige-camera', 'inspect', 'classify', 'reject-trigger', 'stats'];
const nodesDir = path.resolve(__dirname, '..', '..', 'nodes');

/**
 * Translates a key with the node's own en-US catalog, as Node-RED does at run time. The test
 * helper's stand-in returns the bare key, which would hide what a user actually reads.
 */
function translate(key: string, subs: Record<string, unknown> = {}): string {
  const [type] = key.split('.');
  const file = path.join(nodesDir, type, 'locales', 'en-US', `${type}.json`);
  let node: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'string') throw new Error(`missing locale key ${key} in ${file}`);
  return node.replace(/__(\w+)__/g, (_, name: string) => String(subs[name] ?? ''));
}

/** Every node module of the package, ready for node-red-node-test-helper's load(). */
export const allNodes = TYPES.map((type) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const register = require(path.join(nodesDir, type, `${type}.js`)) as (RED: NodeAPI) => void;
  return (RED: NodeAPI) => {
    RED._ = translate;
    register(RED);
  };
});
