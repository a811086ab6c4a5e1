import os from 'node:os';
import path from 'node:path';
import { SecurityPolicy } from 'node-opcua';
import { InspectionError } from '../util/errors';

/** How an OPC UA link is set up, checked in one place before anything connects. */

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';

export interface OpcUaLinkOptions {
  /** opc.tcp://host:port[/path] */
  endpointUrl: string;
  securityMode?: SecurityModeName;
  /** A SecurityPolicy name such as 'Basic256Sha256'; default None, or Basic256Sha256 when signing. */
  securityPolicy?: string;
  username?: string;
  password?: string;
  /** How long the keepalive read may take before the PLC counts as gone (default 1000 ms). */
  requestTimeoutMs?: number;
  /** Interval of the keepalive read (default 500 ms): with the default timeout, a silent PLC is
   * noticed within 1.5 s. */
  keepaliveMs?: number;
  /** Bound on one connection attempt: TCP, secure channel and session (default 3000 ms). */
  connectTimeoutMs?: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** Where the client certificate is kept (default: the user's config folder). */
  pkiFolder?: string;
  /** Trust a server certificate seen for the first time (commissioning only; default false). */
  trustUnknownServerCertificate?: boolean;
}

export function defaultClientPkiFolder(): string {
  const config = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'node-red-contrib-bottle-inspection', 'opcua-client-pki');
}

export type ResolvedOptions = ReturnType<typeof resolveOptions>;

/** Checks every option, naming the first wrong field, and fills in the defaults. */
export function resolveOptions(o: OpcUaLinkOptions) {
  const bad = (field: string, why: string): never => {
    throw new InspectionError('INVALID_CONFIG', `OPC UA link: ${field} ${why}`);
  };
  if (typeof o !== 'object' || o === null) bad('options', 'must be an object');
  const url = typeof o.endpointUrl === 'string' ? o.endpointUrl.trim() : '';
  const m = /^opc\.tcp:\/\/([^\s/:[\]]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})(\/\S*)?$/.exec(url);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    bad('endpointUrl', `must look like opc.tcp://host:port, got ${JSON.stringify(o.endpointUrl)}`);
  }
  const securityMode = o.securityMode ?? 'None';
  if (!['None', 'Sign', 'SignAndEncrypt'].includes(securityMode)) {
    bad('securityMode', `must be None, Sign or SignAndEncrypt, got ${String(o.securityMode)}`);
  }
  // A policy may be given by name (Basic256Sha256) or by its URI (...SecurityPolicy#Basic256Sha256).
  const policy = o.securityPolicy ?? (securityMode === 'None' ? 'None' : 'Basic256Sha256');
  const securityPolicy = policy.replace(/^.*#/, '');
  const known = Object.keys(SecurityPolicy).filter((k) => k !== 'Invalid' && !k.startsWith('PubSub'));
  if (!known.includes(securityPolicy)) {
    bad('securityPolicy', `must be one of ${known.join(', ')}, got ${String(o.securityPolicy)}`);
  }
  if ((securityMode === 'None') !== (securityPolicy === 'None')) {
    bad('securityPolicy', `${securityPolicy} does not go with securityMode ${securityMode}`);
  }
  if (o.username !== undefined && (typeof o.username !== 'string' || o.username === '')) {
    bad('username', 'must be a non-empty string when given');
  }
  if (o.password !== undefined && typeof o.password !== 'string') bad('password', 'must be a string');
  if (o.password !== undefined && o.username === undefined) {
    bad('username', 'is needed when a password is given');
  }
  const ms = (field: string, value: unknown, fallback: number, min: number): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      bad(field, `must be a number of ms ≥ ${min}, got ${String(value)}`);
    }
    return v as number;
  };
  if (typeof o.reconnect !== 'object' || o.reconnect === null) {
    bad('reconnect', 'must be { initialDelayMs, maxDelayMs }');
  }
  const initialDelayMs = ms('reconnect.initialDelayMs', o.reconnect.initialDelayMs, NaN, 10);
  const maxDelayMs = ms('reconnect.maxDelayMs', o.reconnect.maxDelayMs, NaN, initialDelayMs);
  return {
    endpointUrl: url,
    securityMode: securityMode as SecurityModeName,
    securityPolicy,
    username: o.username,
    password: o.password,
    requestTimeoutMs: ms('requestTimeoutMs', o.requestTimeoutMs, 1000, 50),
    keepaliveMs: ms('keepaliveMs', o.keepaliveMs, 500, 50),
    connectTimeoutMs: ms('connectTimeoutMs', o.connectTimeoutMs, 3000, 100),
    reconnect: { initialDelayMs, maxDelayMs },
    pkiFolder: o.pkiFolder ?? defaultClientPkiFolder(),
    trustUnknownServerCertificate: o.trustUnknownServerCertificate ?? false,
  };
}
