import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OpcUaLink, type OpcUaLinkOptions } from '../lib/plc/opcua-link';
import { SimPlc } from '../lib/plc/sim-plc';
import type { LinkState, TagType, TagWrite } from '../lib/plc/types';
import { errorCode } from '../lib/util/errors';
import { startPlc, waitFor } from './support/plc';

const PKI = path.join(os.tmpdir(), 'bottle-inspection-test-pki');
const TYPES: TagType[] = ['Boolean', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float'];
const tag = (name: string): string => `ns=1;s=${name}`;

function verdict(bottleId: number, accept: boolean, reasonCode: number): TagWrite[] {
  return [
    { tag: tag('Inspector.BottleId'), type: 'UInt32', value: bottleId },
    { tag: tag('Inspector.Accept'), type: 'Boolean', value: accept },
    { tag: tag('Inspector.ReasonCode'), type: 'Int16', value: reasonCode },
  ];
}

/** Resolves with the elapsed ms once the link is in `state`; fails after `timeoutMs`. */
function waitState(link: OpcUaLink, state: LinkState, timeoutMs: number): Promise<number> {
  const start = performance.now();
  if (link.state === state) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      link.off('state', onState);
      reject(new Error(`link did not become ${state} within ${timeoutMs} ms (is ${link.state})`));
    }, timeoutMs);
    const onState = (s: LinkState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      link.off('state', onState);
      resolve(performance.now() - start);
    };
    link.on('state', onState);
  });
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal(errorCode(err), code, `expected ${code}, got ${String(err)}`);
    if (pattern) assert.match((err as Error).message, pattern);
    return true;
  });
}

/** A port nobody listens on (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Local addresses listening on `port`, from the kernel's socket tables (Linux). */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A = LISTEN
      const [addr, hexPort] = local.split(':');
      if (addr && parseInt(hexPort ?? '', 16) === port) found.push(addr);
    }
  }
  return found;
}

function counts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

describe('OPC UA PLC link and simulated PLC', function () {
  this.timeout(30000);
  let plc: SimPlc;
  const links: OpcUaLink[] = [];

  function makeLink(extra: Partial<OpcUaLinkOptions> = {}): OpcUaLink {
    const link = new OpcUaLink({
      endpointUrl: plc.endpointUrl,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      pkiFolder: PKI,
      ...extra,
    });
    links.push(link);
    return link;
  }

  async function connected(extra: Partial<OpcUaLinkOptions> = {}): Promise<OpcUaLink> {
    const link = makeLink(extra);
    link.connect();
    await waitState(link, 'connected', 10000);
    return link;
  }

  before(async () => {
    plc = await startPlc({ extraTags: TYPES.map((type) => ({ name: `Test.${type}`, type })) });
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    if (!plc.running) await plc.restart();
  });

  after(async () => {
    await plc?.stop();
  });

  describe('options', () => {
    const base = {
      endpointUrl: 'opc.tcp://127.0.0.1:4840',
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    };
    const invalid = (opts: unknown, field: RegExp): void => {
      assert.throws(
        () => new OpcUaLink(opts as OpcUaLinkOptions),
        (err: unknown) => errorCode(err) === 'INVALID_CONFIG' && field.test((err as Error).message),
      );
    };

    it('names the wrong field', () => {
      invalid({ ...base, endpointUrl: 'http://127.0.0.1:4840' }, /endpointUrl/);
      invalid({ ...base, endpointUrl: 'opc.tcp://127.0.0.1' }, /endpointUrl/);
      invalid({ ...base, endpointUrl: 'opc.tcp://127.0.0.1:70000' }, /endpointUrl/);
      invalid({ ...base, reconnect: undefined }, /reconnect/);
      invalid({ ...base, reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }, /reconnect\.maxDelayMs/);
      invalid({ ...base, securityMode: 'Encrypt' }, /securityMode/);
      invalid({ ...base, securityMode: 'Sign', securityPolicy: 'None' }, /securityPolicy/);
      invalid({ ...base, securityPolicy: 'Basic999' }, /securityPolicy/);
      invalid({ ...base, password: 'x' }, /username/);
      invalid({ ...base, requestTimeoutMs: -1 }, /requestTimeoutMs/);
      assert.equal(new OpcUaLink(base).state, 'disconnected');
    });

    it('refuses to bind the simulated PLC anywhere but loopback', async () => {
      await rejectsWith(SimPlc.start({ host: '0.0.0.0' as '127.0.0.1' }), 'INVALID_CONFIG', /127\.0\.0\.1/);
    });
  });

  describe('writes', () => {
    it('listens on 127.0.0.1 only', () => {
      assert.deepEqual(listeners(plc.port), ['0100007F']);
    });

    it('delivers each type with the exact value and DataType', async () => {
      const link = await connected();
      const values: Record<TagType, number | boolean> = {
        Boolean: true,
        Int16: -32768,
        UInt16: 65535,
        Int32: -2147483648,
        UInt32: 4294967295,
        Float: Math.fround(-1234.5678),
      };
      const writes = TYPES.map((type) => ({ tag: tag(`Test.${type}`), type, value: values[type] }));
      await link.write(writes, 1000);
      const arrived = plc.writes.slice(-TYPES.length);
      for (const [i, type] of TYPES.entries()) {
        assert.equal(plc.value(`Test.${type}`), values[type], type);
        assert.deepEqual({ tag: arrived[i]?.tag, type: arrived[i]?.type, value: arrived[i]?.value },
          { tag: `Test.${type}`, type, value: values[type] });
        assert.equal(await link.read(tag(`Test.${type}`), 1000), values[type]);
      }
    });

    it('counts a combined BottleId/Accept/ReasonCode write as one verdict', async () => {
      const link = await connected();
      const before = plc.counters();
      const verdicts: unknown[] = [];
      plc.on('verdict', (v) => verdicts.push(v));
      await link.write(verdict(101, true, 0), 1000);
      await link.write(verdict(102, false, 1), 1000);
      // An id without its verdict is a bottle the PLC was never told is good: rejected.
      await link.write([{ tag: tag('Inspector.BottleId'), type: 'UInt32', value: 103 }], 1000);
      plc.removeAllListeners('verdict');
      assert.deepEqual(verdicts, [
        { bottleId: 101, accepted: true, reasonCode: 0 },
        { bottleId: 102, accepted: false, reasonCode: 1 },
        { bottleId: 103, accepted: false, reasonCode: undefined },
      ]);
      const after = plc.counters();
      assert.equal(after.accepted, before.accepted + 1);
      assert.equal(after.rejected, before.rejected + 2);
      assert.equal(await link.read(tag('Line.Accepted'), 1000), after.accepted);
      assert.equal(await link.read(tag('Line.Rejected'), 1000), after.rejected);
    });

    it('reports the inspector alive while the heartbeat changes, and not after it stops', async () => {
      const link = await connected();
      const beat = (n: number): Promise<void> =>
        link.write([{ tag: tag('Inspector.Heartbeat'), type: 'UInt32', value: n }], 1000);
      await beat(Math.floor(Math.random() * 1e6) + 1);
      await beat(7);
      assert.equal(plc.counters().inspectorAlive, true);
      assert.equal(await link.read(tag('Line.InspectorAlive'), 1000), true);
      await waitFor(() => !plc.counters().inspectorAlive, 'InspectorAlive to drop after 2 s', 4000, 50);
      await beat(7); // the same value again is no sign of life
      assert.equal(await link.read(tag('Line.InspectorAlive'), 1000), false);
    });

    it('rejects values that do not fit their type before anything is sent', async () => {
      const bad: [TagWrite, RegExp][] = [
        [{ tag: tag('Test.UInt32'), type: 'UInt32', value: -1 }, /UInt32/],
        [{ tag: tag('Test.UInt32'), type: 'UInt32', value: 4294967296 }, /UInt32/],
        [{ tag: tag('Test.Int16'), type: 'Int16', value: 32768 }, /Int16/],
        [{ tag: tag('Test.UInt16'), type: 'UInt16', value: 1.5 }, /UInt16/],
        [{ tag: tag('Test.Int32'), type: 'Int32', value: true }, /Int32/],
        [{ tag: tag('Test.Boolean'), type: 'Boolean', value: 1 }, /Boolean/],
        [{ tag: tag('Test.Float'), type: 'Float', value: Infinity }, /Float/],
        [{ tag: tag('Test.Float'), type: 'Float', value: 1e39 }, /Float/],
        [{ tag: tag('Test.Float'), type: 'Double' as TagType, value: 1 }, /type/],
        [{ tag: 'not a node id', type: 'Int16', value: 1 }, /NodeId/],
      ];
      const offline = makeLink();
      const link = await connected();
      const sent = plc.writes.length;
      for (const [w, pattern] of bad) {
        // A good write in the same batch must not go out either.
        const batch = [{ tag: tag('Test.Int16'), type: 'Int16' as const, value: 1 }, w];
        await rejectsWith(link.write(batch, 1000), 'INVALID_INPUT', pattern);
        await rejectsWith(offline.write(batch, 1000), 'INVALID_INPUT', pattern);
      }
      await rejectsWith(link.write([], 1000), 'INVALID_INPUT');
      await rejectsWith(link.write(verdict(1, true, 0), 0), 'DEADLINE_PASSED');
      assert.equal(plc.writes.length, sent);
    });

    it('names the tag and status when the PLC refuses a write', async () => {
      const link = await connected();
      const wrongType = [{ tag: tag('Inspector.ReasonCode'), type: 'Int32' as const, value: 3 }];
      const mismatch = /Inspector\.ReasonCode.*BadTypeMismatch/;
      await rejectsWith(link.write(wrongType, 1000), 'PLC_WRITE_FAILED', mismatch);
      const readOnly = [{ tag: tag('Line.Accepted'), type: 'UInt32' as const, value: 0 }];
      await rejectsWith(link.write(readOnly, 1000), 'PLC_WRITE_FAILED', /Line\.Accepted.*BadNotWritable/);
      const unknown = [{ tag: tag('Nowhere'), type: 'UInt32' as const, value: 0 }];
      await rejectsWith(link.write(unknown, 1000), 'PLC_WRITE_FAILED', /Nowhere.*BadNodeIdUnknown/);
      await rejectsWith(link.read(tag('Nowhere'), 1000), 'PLC_READ_FAILED', /Nowhere.*BadNodeIdUnknown/);
    });

    it('logs in with a user name and password', async () => {
      const secured = await startPlc({ users: [{ username: 'line', password: 'secret' }] });
      try {
        const endpointUrl = secured.endpointUrl;
        const link = await connected({ endpointUrl, username: 'line', password: 'secret' });
        await link.write(verdict(5, true, 0), 1000);
        assert.equal(secured.counters().accepted, 1);
        const wrong = makeLink({ endpointUrl, username: 'line', password: 'wrong' });
        const detail = new Promise<string>((resolve) => {
          wrong.on('state', (s: LinkState, d?: string) => {
            if (s === 'disconnected') resolve(d ?? '');
          });
        });
        wrong.connect();
        assert.match(await detail, /cannot connect/);
        assert.equal(wrong.state, 'disconnected');
      } finally {
        await Promise.all(links.splice(0).map((l) => l.close()));
        await secured.stop();
      }
    });

    it('signs and encrypts when asked to', async () => {
      const link = await connected({ securityMode: 'SignAndEncrypt', trustUnknownServerCertificate: true });
      await link.write(verdict(6, true, 0), 1000);
      assert.equal(plc.value('Inspector.BottleId'), 6);
    });
  });

  describe('connection loss', () => {
    it('reports an unreachable PLC quickly, once, and connects when it appears', async () => {
      const port = await freePort();
      const link = makeLink({ endpointUrl: `opc.tcp://127.0.0.1:${port}` });
      const states: LinkState[] = [];
      link.on('state', (s: LinkState) => states.push(s));
      link.connect();
      const ms = await waitState(link, 'disconnected', 2000);
      assert.ok(ms < 1000, `took ${ms} ms`);
      await rejectsWith(link.write(verdict(1, true, 0), 1000), 'PLC_UNREACHABLE', new RegExp(String(port)));
      await rejectsWith(link.read(tag('Line.Accepted'), 1000), 'PLC_UNREACHABLE');
      const late = await SimPlc.start({ port, host: '127.0.0.1' });
      try {
        await waitState(link, 'connected', 5000);
        assert.deepEqual(states, ['connecting', 'disconnected', 'connected']);
        await link.write(verdict(2, true, 0), 1000);
        assert.equal(late.counters().accepted, 1);
      } finally {
        await link.close();
        await late.stop();
      }
    });

    it('notices a stopped PLC within 2 s and reconnects by itself when it restarts', async () => {
      const link = await connected();
      const states: LinkState[] = [];
      link.on('state', (s: LinkState) => states.push(s));
      const lost = waitState(link, 'disconnected', 2000);
      await plc.stop();
      assert.ok((await lost) < 2000);
      await rejectsWith(link.write(verdict(1, true, 0), 1000), 'PLC_UNREACHABLE');
      await plc.restart();
      await waitState(link, 'connected', 5000);
      assert.deepEqual(states, ['disconnected', 'connected']);
      const before = plc.counters().accepted;
      await link.write(verdict(9, true, 0), 1000);
      assert.equal(plc.counters().accepted, before + 1);
      assert.equal(plc.sessionCount(), 1);
    });

    it('notices a PLC that stops answering within 2 s (simulator process frozen)', async function () {
      if (process.platform === 'win32') this.skip();
      const cli = path.join(__dirname, '..', 'tools', 'sim-plc.js');
      const child: ChildProcess = spawn(process.execPath, [cli, '--port', '0', '--quiet'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const sockets = counts().get('TCPSocketWrap') ?? 0;
      try {
        const endpoint = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout?.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const m = /sim-plc: listening on (opc\.tcp:\/\/127\.0\.0\.1:\d+)/.exec(out);
            if (m?.[1]) resolve(m[1]);
          });
          child.once('exit', (code) => reject(new Error(`sim-plc exited (${code}): ${out}`)));
        });
        const link = await connected({ endpointUrl: endpoint });
        await link.write(verdict(1, true, 0), 1000);

        child.kill('SIGSTOP');
        const lost = waitState(link, 'disconnected', 3000);
        // Still "connected" for a moment, but a write cannot beat its deadline.
        await rejectsWith(link.write(verdict(2, true, 0), 200), 'DEADLINE_PASSED', /200 ms/);
        const ms = await lost;
        assert.ok(ms < 2000, `took ${ms} ms`);

        child.kill('SIGCONT');
        await waitState(link, 'connected', 8000);
        await link.write(verdict(3, true, 0), 1000);

        // Closing while the PLC is frozen is still bounded and still frees the socket.
        child.kill('SIGSTOP');
        await waitState(link, 'disconnected', 3000);
        const start = performance.now();
        await link.close();
        assert.ok(performance.now() - start < 3000);
        const socketGone = (): boolean => (counts().get('TCPSocketWrap') ?? 0) <= sockets;
        await waitFor(socketGone, 'the socket to the frozen PLC to go', 1000);
      } finally {
        child.kill('SIGCONT');
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      }
    });
  });

  describe('closing', () => {
    it('leaves at most one session after 20 connect/close cycles', async () => {
      for (let i = 0; i < 20; i++) {
        const link = makeLink();
        link.connect();
        // Every other cycle closes while the connection is still being made.
        if (i % 2 === 0) await waitState(link, 'connected', 5000);
        const start = performance.now();
        await link.close();
        await link.close(); // idempotent
        assert.ok(performance.now() - start < 3000);
        assert.equal(link.state, 'closed');
        assert.throws(() => link.connect(), (err: unknown) => errorCode(err) === 'CLOSED');
      }
      links.length = 0;
      assert.ok(plc.sessionCount() <= 1, `${plc.sessionCount()} sessions left`);
      await waitFor(() => plc.sessionCount() === 0, 'the last session to close', 3000);
    });

    it('leaves no socket or timer behind', async () => {
      const cycle = async (): Promise<void> => {
        const link = makeLink();
        link.connect();
        await waitState(link, 'connected', 5000);
        await link.write(verdict(1, true, 0), 1000);
        await link.close();
      };
      await cycle(); // warm up: node-opcua sets up process-wide state once
      const interesting = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];
      const snapshot = (): number[] => interesting.map((k) => counts().get(k) ?? 0);
      await waitFor(() => plc.sessionCount() === 0, 'sessions to close', 3000);
      const baseline = snapshot();
      for (let i = 0; i < 5; i++) await cycle();
      links.length = 0;
      await waitFor(
        () => snapshot().every((n, i) => n <= (baseline[i] ?? 0)),
        `handles back to ${JSON.stringify(baseline)} (now ${JSON.stringify(snapshot())})`,
        3000,
      );
    });
  });
});
