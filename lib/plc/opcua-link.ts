import { EventEmitter } from 'node:events';
import {
  AttributeIds, DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy,
  ServerState, UserTokenType, Variant, defaultClientTransportFactory, resolveNodeId,
  type ClientSession, type IClientTransport, type NodeId, type StatusCode, type UserIdentityInfo,
  type WriteValueOptions,
} from 'node-opcua';
import { InspectionError, errorMessage } from '../util/errors';
import { DeadlineError, checkTagValue, isTagType, withDeadline } from './types';
import type { LinkState, PlcLink, TagWrite } from './types';
import { resolveOptions, type OpcUaLinkOptions, type ResolvedOptions } from './opcua-options';

export { defaultClientPkiFolder, type OpcUaLinkOptions, type SecurityModeName } from './opcua-options';

/**
 * PlcLink over OPC UA (node-opcua client).
 *
 * node-opcua can reconnect by itself, but its first connect() then waits for the server forever
 * and its state is hard to observe. This link keeps node-opcua's own retries off (maxRetry 0) and
 * runs one loop of its own instead: one client and one session per connection; when the
 * connection is lost, both are thrown away and a fresh pair is made after a backoff. A small read
 * every `keepaliveMs` notices a PLC that stops answering without closing the socket.
 *
 * States: 'connecting' from connect() until the first attempt ends; then 'connected' or
 * 'disconnected', each emitted once per change however many retries happen in between; 'closed'
 * after close().
 */

/** One client with its session: created together, thrown away together. */
interface Connection {
  client: OPCUAClient;
  /** The TCP transports node-opcua opened for this client, to be destroyed at teardown. */
  transports: IClientTransport[];
  session?: ClientSession;
  keepalive?: NodeJS.Timeout;
  probing: boolean;
  /** Set once the connection is being torn down; the attempt that made it then stops. */
  dead: boolean;
  teardown?: Promise<void>;
}

const APPLICATION_NAME = 'node-red-contrib-bottle-inspection';
const CLOSE_BUDGET_MS = 2800;
const TEARDOWN_STEP_MS = 1000;

export class OpcUaLink extends EventEmitter implements PlcLink {
  readonly #opts: ResolvedOptions;
  #state: LinkState = 'disconnected';
  #started = false;
  #conn: Connection | undefined;
  #attempt: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #certificates: OPCUACertificateManager | undefined;
  readonly #teardowns = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(options: OpcUaLinkOptions) {
    super();
    this.#opts = resolveOptions(options);
    this.#delayMs = this.#opts.reconnect.initialDelayMs;
  }

  get state(): LinkState {
    return this.#state;
  }

  connect(): void {
    if (this.#state === 'closed') {
      throw new InspectionError('CLOSED', 'this PLC link has been closed; create a new one');
    }
    if (this.#started) return;
    this.#started = true;
    this.#setState('connecting');
    this.#startAttempt();
  }

  async write(writes: TagWrite[], timeoutMs: number): Promise<void> {
    if (!Array.isArray(writes) || writes.length === 0) {
      throw new InspectionError('INVALID_INPUT', 'write needs at least one tag');
    }
    const nodesToWrite = writes.map(toWriteValue);
    const session = this.#sessionFor(timeoutMs);
    let results: StatusCode[];
    try {
      results = await withDeadline(session.write(nodesToWrite), timeoutMs);
    } catch (err) {
      throw this.#requestError(err, `write of ${writes.map((w) => w.tag).join(', ')}`, timeoutMs);
    }
    const refused = results
      .map((status, i) => (status.isGood() ? undefined : `${writes[i]?.tag} (${describeStatus(status)})`))
      .filter((s): s is string => s !== undefined);
    if (refused.length > 0) {
      throw new InspectionError('PLC_WRITE_FAILED', `the PLC refused the write of ${refused.join(', ')}`);
    }
  }

  async read(tag: string, timeoutMs: number): Promise<number | boolean> {
    const nodeId = parseTag(tag);
    const session = this.#sessionFor(timeoutMs);
    let dataValue;
    try {
      dataValue = await withDeadline(session.read({ nodeId, attributeId: AttributeIds.Value }), timeoutMs);
    } catch (err) {
      throw this.#requestError(err, `read of ${tag}`, timeoutMs);
    }
    // There is no separate read-failure code: a read is how a write gets confirmed.
    if (!dataValue.statusCode.isGood()) {
      const status = describeStatus(dataValue.statusCode);
      throw new InspectionError('PLC_READ_FAILED', `the PLC refused the read of ${tag} (${status})`);
    }
    const value: unknown = dataValue.value.value;
    if (typeof value !== 'number' && typeof value !== 'boolean') {
      const type = DataType[dataValue.value.dataType] ?? 'unknown';
      const why = `tag ${tag} holds a ${type}; this link reads Boolean and numbers`;
      throw new InspectionError('INVALID_INPUT', why);
    }
    return value;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    this.#setState('closed');
    if (conn) this.#teardown(conn);
    // Wait for an attempt in flight (it cleans up after itself) and every teardown, within bounds.
    const pending = [...this.#teardowns];
    if (this.#attempt) pending.push(this.#attempt);
    await withDeadline(Promise.allSettled(pending), CLOSE_BUDGET_MS).catch(() => undefined);
    const certificates = this.#certificates;
    this.#certificates = undefined;
    if (certificates) {
      // node-opcua counts the clients of a certificate manager and releases it only at zero.
      certificates.referenceCounter = 0;
      await withDeadline(certificates.dispose(), 200).catch(() => undefined);
    }
  }

  #setState(state: LinkState, detail?: string): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit('state', state, detail);
  }

  /** The live session, or the reason a request cannot be sent now. */
  #sessionFor(timeoutMs: number): ClientSession {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
      throw new InspectionError('INVALID_INPUT', `timeout must be a number of ms, got ${String(timeoutMs)}`);
    }
    if (timeoutMs <= 0) {
      throw new InspectionError('DEADLINE_PASSED', `no time left to reach the PLC (${timeoutMs} ms)`);
    }
    const session = this.#state === 'connected' ? this.#conn?.session : undefined;
    if (!session) {
      const why = `the PLC at ${this.#opts.endpointUrl} is not connected (${this.#state})`;
      throw new InspectionError('PLC_UNREACHABLE', why);
    }
    return session;
  }

  #requestError(err: unknown, what: string, timeoutMs: number): InspectionError {
    if (err instanceof DeadlineError) {
      return new InspectionError('DEADLINE_PASSED', `${what}: no answer from the PLC within ${timeoutMs} ms`);
    }
    return new InspectionError('PLC_UNREACHABLE', `${what}: ${errorMessage(err)}`, { cause: err });
  }

  #startAttempt(): void {
    this.#retryTimer = undefined;
    const attempt = this.#connectOnce().finally(() => {
      if (this.#attempt === attempt) this.#attempt = undefined;
    });
    this.#attempt = attempt;
  }

  async #connectOnce(): Promise<void> {
    const o = this.#opts;
    const transports: IClientTransport[] = [];
    const client = this.#makeClient(transports);
    const conn: Connection = { client, transports, probing: false, dead: false };
    this.#conn = conn;
    try {
      await withDeadline(conn.client.connect(o.endpointUrl), o.connectTimeoutMs);
      if (conn.dead) return;
      const session = await withDeadline(conn.client.createSession(this.#identity()), o.connectTimeoutMs);
      conn.session = session;
      if (conn.dead) {
        // close() came while the session was being made: the teardown may have missed it.
        await withDeadline(session.close(), TEARDOWN_STEP_MS).catch(() => undefined);
        return;
      }
    } catch (err) {
      if (conn.dead) return;
      this.#lost(conn, `cannot connect to ${o.endpointUrl}: ${firstLine(err)}`);
      return;
    }
    conn.client.on('connection_lost', () => this.#lost(conn, 'connection to the PLC lost'));
    conn.client.on('close', () => this.#lost(conn, 'connection to the PLC closed'));
    conn.session.on('session_closed', () => this.#lost(conn, 'the PLC closed the session'));
    conn.keepalive = setInterval(() => this.#probe(conn), o.keepaliveMs);
    this.#delayMs = o.reconnect.initialDelayMs;
    this.#setState('connected');
  }

  #makeClient(transports: IClientTransport[]): OPCUAClient {
    const o = this.#opts;
    // One certificate manager for all the link's clients: one per client would leak memory on
    // every reconnection attempt.
    const clientCertificateManager = (this.#certificates ??= new OPCUACertificateManager({
      rootFolder: o.pkiFolder,
      automaticallyAcceptUnknownCertificate: o.trustUnknownServerCertificate,
      // watchers would keep handles open, and nobody edits this folder while the link runs
      disableFileWatchers: true,
    }));
    return OPCUAClient.create({
      applicationName: APPLICATION_NAME,
      clientCertificateManager,
      endpointMustExist: false,
      securityMode: MessageSecurityMode[o.securityMode],
      securityPolicy: SecurityPolicy[o.securityPolicy as keyof typeof SecurityPolicy],
      // No retries inside node-opcua: a failed attempt comes back at once and this link decides.
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      keepSessionAlive: false,
      defaultTransactionTimeout: o.connectTimeoutMs,
      // A session abandoned when a PLC vanished silently expires on the PLC after this long.
      requestedSessionTimeout: Math.max(10_000, 20 * o.keepaliveMs),
      // node-opcua's own TCP transport, remembered so that teardown can destroy its socket even
      // when a frozen PLC keeps the polite disconnect from finishing.
      transportFactory: {
        create: (settings) => {
          const transport = defaultClientTransportFactory.create(settings);
          transports.push(transport);
          return transport;
        },
      },
    });
  }

  #identity(): UserIdentityInfo {
    const { username, password } = this.#opts;
    if (username === undefined) return { type: UserTokenType.Anonymous };
    return { type: UserTokenType.UserName, userName: username, password: password ?? '' };
  }

  /** Reads the server state: a PLC that does not answer in time, or is not running, is gone. */
  #probe(conn: Connection): void {
    const session = conn.session;
    if (conn.probing || conn.dead || !session) return;
    conn.probing = true;
    const read = session.read({ nodeId: 'ns=0;i=2259', attributeId: AttributeIds.Value });
    withDeadline(read, this.#opts.requestTimeoutMs)
      .then((dv) => {
        if (!dv.statusCode.isGood() || dv.value.value !== ServerState.Running) {
          const state = ServerState[dv.value.value as number] ?? describeStatus(dv.statusCode);
          this.#lost(conn, `the PLC is not running (${state})`);
        }
      })
      .catch((err: unknown) => {
        const why = err instanceof DeadlineError ? err.message : firstLine(err);
        this.#lost(conn, `the PLC stopped answering: ${why}`);
      })
      .finally(() => (conn.probing = false));
  }

  /** The connection is unusable: throw it away, report once, try again after the backoff. */
  #lost(conn: Connection, detail: string): void {
    if (this.#conn !== conn || this.#state === 'closed') return;
    this.#conn = undefined;
    this.#teardown(conn);
    this.#setState('disconnected', detail);
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, this.#opts.reconnect.maxDelayMs);
    this.#retryTimer = setTimeout(() => this.#startAttempt(), delay);
  }

  /** Closes session and client, each step bounded so a frozen PLC cannot hold us up. */
  #teardown(conn: Connection): void {
    if (conn.teardown) return;
    conn.dead = true;
    clearInterval(conn.keepalive);
    const done = (async () => {
      const step = (p: Promise<void>) => withDeadline(p, TEARDOWN_STEP_MS).catch(() => undefined);
      if (conn.session) await step(conn.session.close());
      await step(conn.client.disconnect());
      // Normally a no-op by now; after a silent PLC it is what actually frees the socket.
      for (const transport of conn.transports) transport.dispose();
    })();
    conn.teardown = done;
    this.#teardowns.add(done);
    void done.finally(() => this.#teardowns.delete(done));
  }
}

function toWriteValue(w: TagWrite): WriteValueOptions {
  if (typeof w !== 'object' || w === null) {
    throw new InspectionError('INVALID_INPUT', 'a tag write must be an object');
  }
  const nodeId = parseTag(w.tag);
  if (!isTagType(w.type)) {
    throw new InspectionError('INVALID_INPUT', `tag ${w.tag}: unknown type ${String(w.type)}`);
  }
  const problem = checkTagValue(w.type, w.value);
  if (problem) throw new InspectionError('INVALID_INPUT', `tag ${w.tag}: ${problem}`);
  return {
    nodeId,
    attributeId: AttributeIds.Value,
    value: { value: new Variant({ dataType: DataType[w.type], value: w.value }) },
  };
}

function parseTag(tag: unknown): NodeId {
  if (typeof tag !== 'string' || tag.trim() === '') {
    const why = `a tag must be a NodeId string such as ns=1;s=Inspector.BottleId, got ${String(tag)}`;
    throw new InspectionError('INVALID_INPUT', why);
  }
  try {
    return resolveNodeId(tag);
  } catch (err) {
    throw new InspectionError('INVALID_INPUT', `tag "${tag}" is not a valid NodeId: ${errorMessage(err)}`);
  }
}

function describeStatus(status: StatusCode): string {
  return `${status.name} 0x${status.value.toString(16).padStart(8, '0')}`;
}

function firstLine(err: unknown): string {
  return errorMessage(err).split('\n')[0] ?? '';
}
