import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DataType,
  OPCUACertificateManager,
  OPCUAServer,
  RegisterServerMethod,
  StatusCodes,
  Variant,
  WriteRequest,
  WriteResponse,
  type StatusCode,
  type UAObject,
} from 'node-opcua';
import { InspectionError, errorMessage } from '../util/errors';
import { checkTagValue, isTagType, type TagType } from './types';

/**
 * A small OPC UA server that plays the line PLC in tests and in the demo.
 *
 * Its "program", as a plant engineer would write it in the PLC:
 *  - the inspector writes Inspector.BottleId, Inspector.Accept and Inspector.ReasonCode in one
 *    write request per bottle; that request is one entry of the shift register;
 *  - a bottle counts as accepted only when Accept = true arrived with its id; a bottle whose id
 *    came without a good Accept is rejected (the PLC treats every bottle as faulty until told
 *    it is good);
 *  - Line.Accepted and Line.Rejected count those verdicts;
 *  - Line.InspectorAlive is true while Inspector.Heartbeat keeps changing, false once it has
 *    stood still for more than 2 s.
 *
 * Tags are typed strictly, like a real PLC: a write with another DataType is refused with
 * BadTypeMismatch. The server listens on 127.0.0.1 only and never announces itself.
 *
 * Events: 'write' (SimPlcWrite) for every good write, 'verdict' (SimPlcVerdict) for every bottle.
 */

export interface SimPlcOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Only loopback is allowed: the simulator must never be reachable from the network. */
  host?: '127.0.0.1';
  /** Additional writable tags, e.g. `{ name: 'Test.Int32', type: 'Int32' }` (ns=1;s=Test.Int32). */
  extraTags?: { name: string; type: TagType }[];
  /** When given, sessions must log in with one of these; anonymous sessions are refused. */
  users?: { username: string; password: string }[];
  /** Where the server keeps its certificate between runs (default: the user's cache folder). */
  pkiFolder?: string;
  /** How many writes `writes` keeps (default 1000). */
  historySize?: number;
}

export interface SimPlcWrite {
  tag: string;
  value: number | boolean;
  /** The DataType that arrived on the wire. */
  type: string;
  /** Wall-clock time of the write, ms since the epoch. */
  atMs: number;
}

export interface SimPlcCounters {
  accepted: number;
  rejected: number;
  inspectorAlive: boolean;
}

export interface SimPlcVerdict {
  bottleId: number;
  accepted: boolean;
  reasonCode: number | undefined;
}

interface Slot {
  type: TagType;
  value: number | boolean;
  writable: boolean;
}

const NS = 'ns=1;s=';
const HEARTBEAT_TIMEOUT_MS = 2000;
const MAX_PENDING_REQUESTS = 256;

/** Declared tags of the PLC program. */
const PROGRAM_TAGS: { name: string; type: TagType; writable: boolean }[] = [
  { name: 'Inspector.BottleId', type: 'UInt32', writable: true },
  { name: 'Inspector.Accept', type: 'Boolean', writable: true },
  { name: 'Inspector.ReasonCode', type: 'Int16', writable: true },
  { name: 'Inspector.Heartbeat', type: 'UInt32', writable: true },
  { name: 'Line.Accepted', type: 'UInt32', writable: false },
  { name: 'Line.Rejected', type: 'UInt32', writable: false },
  { name: 'Line.InspectorAlive', type: 'Boolean', writable: false },
];

/** Per-user cache folder: the certificate is made once and reused, so a start takes ~0.5 s. */
export function defaultSimPkiFolder(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'node-red-contrib-bottle-inspection', 'sim-plc-pki');
}

export class SimPlc extends EventEmitter {
  readonly #opts: SimPlcOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #writes: SimPlcWrite[] = [];
  /** Write requests waiting for their response, keyed by channel and request handle. */
  readonly #pending = new Map<string, WriteRequest>();
  #server: OPCUAServer | undefined;
  #port: number;
  #heartbeatChangedAt: number | undefined;

  private constructor(opts: SimPlcOptions) {
    super();
    this.#opts = opts;
    this.#port = opts.port ?? 0;
    const extra = (opts.extraTags ?? []).map((t) => ({ ...t, writable: true }));
    for (const { name, type, writable } of [...PROGRAM_TAGS, ...extra]) {
      this.#slots.set(name, { type, value: type === 'Boolean' ? false : 0, writable });
    }
  }

  static async start(opts: SimPlcOptions = {}): Promise<SimPlc> {
    validate(opts);
    const plc = new SimPlc(opts);
    await plc.#launch();
    return plc;
  }

  get port(): number {
    return this.#port;
  }

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Stops listening and drops every session, as a PLC going off line would. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#pending.clear();
    if (server) await server.shutdown(0);
  }

  /** Stops and starts again on the same port; tag values and counters are kept (retentive). */
  async restart(): Promise<void> {
    await this.stop();
    await this.#launch();
  }

  sessionCount(): number {
    return this.#server?.engine.currentSessionCount ?? 0;
  }

  /** Current value of a tag, by name ('Inspector.Accept') or NodeId ('ns=1;s=Inspector.Accept'). */
  value(tag: string): number | boolean {
    if (this.#slotName(tag) === 'Line.InspectorAlive') return this.#inspectorAlive();
    return this.#slot(tag).value;
  }

  /** The declared type of a tag. */
  tagType(tag: string): TagType {
    return this.#slot(tag).type;
  }

  /** The last writes that succeeded, oldest first. */
  get writes(): readonly SimPlcWrite[] {
    return [...this.#writes];
  }

  counters(): SimPlcCounters {
    return {
      accepted: this.#slot('Line.Accepted').value as number,
      rejected: this.#slot('Line.Rejected').value as number,
      inspectorAlive: this.#inspectorAlive(),
    };
  }

  async #launch(): Promise<void> {
    const pki = this.#opts.pkiFolder ?? defaultSimPkiFolder();
    const users = this.#opts.users;
    const server = new OPCUAServer({
      port: this.#port,
      // host is where the socket binds; hostname is what the advertised endpoint URLs say.
      host: '127.0.0.1',
      hostname: '127.0.0.1',
      registerServerMethod: RegisterServerMethod.HIDDEN,
      serverCertificateManager: certificateManager(path.join(pki, 'server')),
      userCertificateManager: certificateManager(path.join(pki, 'users')),
      serverInfo: { applicationUri: 'urn:node-red-contrib-bottle-inspection:sim-plc', productUri: 'sim-plc' },
      buildInfo: { productName: 'Bottle inspection simulated PLC', manufacturerName: 'bottle-inspection' },
      allowAnonymous: users === undefined,
      userManager: users && {
        isValidUser: (name: string, password: string) =>
          users.some((u) => u.username === name && u.password === password),
      },
    });
    await server.initialize();
    this.#buildAddressSpace(server);
    server.on('request', (request, channel) => {
      if (request instanceof WriteRequest) this.#remember(channel.channelId, request);
    });
    server.on('response', (response, channel) => {
      if (response instanceof WriteResponse) this.#onWriteDone(channel.channelId, response);
    });
    try {
      await server.start();
    } catch (err) {
      await server.shutdown(0).catch(() => undefined);
      throw new Error(`the simulated PLC cannot listen on 127.0.0.1:${this.#port}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    this.#port = server.endpoints[0]?.port ?? this.#port;
    this.#server = server;
  }

  #buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('the OPC UA server has no address space after initialize()');
    const namespace = addressSpace.getOwnNamespace();
    const folders = new Map<string, UAObject>();
    for (const [name, slot] of this.#slots) {
      const dot = name.lastIndexOf('.');
      const folderName = dot > 0 ? name.slice(0, dot) : 'PLC';
      let folder = folders.get(folderName);
      if (!folder) {
        folder = namespace.addFolder(addressSpace.rootFolder.objects, { browseName: folderName });
        folders.set(folderName, folder);
      }
      const access = slot.writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead';
      namespace.addVariable({
        componentOf: folder,
        browseName: name.slice(dot + 1),
        nodeId: `s=${name}`,
        dataType: slot.type,
        accessLevel: access,
        userAccessLevel: access,
        minimumSamplingInterval: 100,
        value: {
          get: () => new Variant({ dataType: DataType[slot.type], value: this.value(name) }),
          set: (variant: Variant) => this.#set(name, slot, variant),
        },
      });
    }
  }

  /** Stores one written value; like a PLC, refuses a value that is not exactly the tag's type. */
  #set(name: string, slot: Slot, variant: Variant): StatusCode {
    if (variant.dataType !== DataType[slot.type]) return StatusCodes.BadTypeMismatch;
    const value: unknown = variant.value;
    if (checkTagValue(slot.type, value) !== undefined) return StatusCodes.BadOutOfRange;
    if (name === 'Inspector.Heartbeat' && value !== slot.value) this.#heartbeatChangedAt = performance.now();
    slot.value = value as number | boolean;
    return StatusCodes.Good;
  }

  #remember(channelId: number, request: WriteRequest): void {
    // Responses can go missing when a channel drops; keep the map from growing without bound.
    if (this.#pending.size >= MAX_PENDING_REQUESTS) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    this.#pending.set(`${channelId}:${request.requestHeader.requestHandle}`, request);
  }

  /** After a write request has been answered: log its good writes and run the shift register. */
  #onWriteDone(channelId: number, response: WriteResponse): void {
    const key = `${channelId}:${response.responseHeader.requestHandle}`;
    const request = this.#pending.get(key);
    this.#pending.delete(key);
    if (!request) return;
    const arrived = new Map<string, number | boolean>();
    (request.nodesToWrite ?? []).forEach((w, i) => {
      const good = response.results?.[i]?.isGood() ?? false;
      const tag = w.nodeId.namespace === 1 && typeof w.nodeId.value === 'string' ? w.nodeId.value : undefined;
      const variant = w.value.value;
      if (!good || tag === undefined || !variant) return;
      const value = variant.value as number | boolean;
      arrived.set(tag, value);
      this.#log({ tag, value, type: DataType[variant.dataType], atMs: Date.now() });
    });
    const bottleId = arrived.get('Inspector.BottleId');
    if (typeof bottleId !== 'number') return;
    const reason = arrived.get('Inspector.ReasonCode');
    const verdict: SimPlcVerdict = {
      bottleId,
      accepted: arrived.get('Inspector.Accept') === true,
      reasonCode: typeof reason === 'number' ? reason : undefined,
    };
    this.#count(verdict.accepted ? 'Line.Accepted' : 'Line.Rejected');
    this.emit('verdict', verdict);
  }

  #log(write: SimPlcWrite): void {
    this.#writes.push(write);
    if (this.#writes.length > (this.#opts.historySize ?? 1000)) this.#writes.shift();
    this.emit('write', write);
  }

  #count(name: 'Line.Accepted' | 'Line.Rejected'): void {
    const slot = this.#slot(name);
    // A UInt32 counter in a PLC wraps around; so does this one.
    slot.value = ((slot.value as number) + 1) % 4294967296;
  }

  #inspectorAlive(): boolean {
    const at = this.#heartbeatChangedAt;
    return at !== undefined && performance.now() - at <= HEARTBEAT_TIMEOUT_MS;
  }

  #slotName(tag: string): string {
    return tag.startsWith(NS) ? tag.slice(NS.length) : tag;
  }

  #slot(tag: string): Slot {
    const slot = this.#slots.get(this.#slotName(tag));
    if (!slot) throw new InspectionError('INVALID_INPUT', `the simulated PLC has no tag "${tag}"`);
    return slot;
  }
}

function certificateManager(rootFolder: string): OPCUACertificateManager {
  // No file watchers: they would keep handles open and the folder never changes under a test.
  // The simulator trusts any client: it is a test fixture on loopback, not a plant PLC.
  return new OPCUACertificateManager({
    rootFolder,
    automaticallyAcceptUnknownCertificate: true,
    disableFileWatchers: true,
  });
}

function validate(opts: SimPlcOptions): void {
  const bad = (why: string): never => {
    throw new InspectionError('INVALID_CONFIG', `simulated PLC: ${why}`);
  };
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    bad(`port must be a whole number 0..65535, got ${String(opts.port)}`);
  }
  if (opts.host !== undefined && opts.host !== '127.0.0.1') {
    bad(`host must be 127.0.0.1 (loopback only), got ${String(opts.host)}`);
  }
  for (const t of opts.extraTags ?? []) {
    if (!/^[A-Za-z][\w.]*$/.test(t.name) || PROGRAM_TAGS.some((p) => p.name === t.name)) {
      bad(`extra tag name "${t.name}" is not a free tag name`);
    }
    if (!isTagType(t.type)) bad(`extra tag ${t.name} has unknown type ${String(t.type)}`);
  }
  const size = opts.historySize ?? 1000;
  if (!Number.isInteger(size) || size < 1) bad(`historySize must be a whole number ≥ 1, got ${size}`);
}
