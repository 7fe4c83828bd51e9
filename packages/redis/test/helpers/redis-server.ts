/**
 * Real redis-server processes for the tests, on free loopback ports: started here, always killed
 * in afterAll (and on exit), every wait bounded.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** Runs redis-cli against this server. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  start(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const cli = async (...args: string[]): Promise<string> =>
    (await run(CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: undefined as unknown as ChildProcess,
    cli,
    async start() {
      const p = spawn(SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local', ...extra], {
        stdio: 'ignore',
      });
      live.add(p);
      p.once('exit', () => live.delete(p));
      server.process = p;
      await waitFor(async () => (await cli('PING')) === 'PONG', `redis-server on ${port}`);
    },
    async stop() {
      const p = server.process;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await Promise.race([exited, sleep(5000)]);
    },
  };
  await server.start();
  return server;
}

export interface RedisCluster {
  nodes: RedisServer[];
  stop(): Promise<void>;
}

/** Three masters, no replicas, started the same way and joined with `redis-cli --cluster create`. */
export async function startCluster(): Promise<RedisCluster> {
  const nodes = await Promise.all([0, 1, 2].map(() => startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', `/tmp/prodo-redis-nodes-${process.pid}-${Math.random().toString(36).slice(2)}.conf`])));
  const cluster = { nodes, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
  try {
    await run(CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 20_000,
    });
    for (const n of nodes) await waitFor(async () => (await n.cli('CLUSTER', 'INFO')).includes('cluster_state:ok'), 'cluster_state:ok', 20_000);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
