/**
 * Runs a node script inside a network namespace of its own (`unshare -n`), with loopback up and
 * extra loopback addresses added, so that GigE Vision discovery broadcasts and fake cameras never
 * touch the host's interfaces. The namespace dies with the script.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface NamespaceRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Why no namespace can be made here, or undefined when one can. */
export function namespaceUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  const r = spawnSync('unshare', ['-n', 'bash', '-c', 'ip link set lo up'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return 'cannot create a network namespace (unshare -n with ip needs CAP_SYS_ADMIN)';
  return undefined;
}

/**
 * `node script ...args` inside a new network namespace where lo is up and holds `addresses`
 * (127.0.0.1 is always there). Resolves with its exit code and output once it ends; kills it
 * after `timeoutMs`.
 */
export function runNodeInNamespace(
  script: string, args: string[], addresses: string[], timeoutMs: number,
): Promise<NamespaceRun> {
  const setup = ['ip link set lo up', ...addresses.map((a) => `ip addr add ${a}/8 dev lo`)].join(' && ');
  const shell = `${setup} || exit 90\nexec "$NODE" "$@"`;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'bash', '-c', shell, 'netns', script, ...args], {
      env: { ...process.env, NODE: process.execPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
