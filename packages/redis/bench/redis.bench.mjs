#!/usr/bin/env node
// Benchmarks @prodo-auth/redis against the built package (`npx tsdown` first), on loopback with its
// own redis-server (started here, stopped at the end) and a counting token server:
// - the fleet herd: 4 processes x 250 callers, from cold and at expiry: token requests made (goal 1 each);
// - warm getAccessToken() with the Redis store against the memory store, each variant in a fresh
//   process (five alternating runs each, medians): throughput ratio (goal >= 0.9) with CPU
//   microseconds per call beside it;
// - Redis commands sent per 1,000 warm calls, from INFO commandstats deltas (goal 0).
import { execFile, fork, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URLSearchParams } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const FLEET_WORKER = fileURLToPath(new URL('../test/fixtures/fleet-worker.mjs', import.meta.url));
const WARM_WORKER = fileURLToPath(new URL('./warm-worker.mjs', import.meta.url));
const children = new Set();
const bounded = (promise, ms, what) =>
  Promise.race([promise, sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error(`bench: timed out: ${what}`)))]);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A token server that counts requests; tokens live `lifetime` seconds and rotate on refresh. */
async function tokenServer(lifetime) {
  let n = 0;
  const counts = { password: 0, refresh_token: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const grant = new URLSearchParams(body).get('grant_type');
      counts[grant] = (counts[grant] ?? 0) + 1;
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `at-${n}`, token_type: 'Bearer', expires_in: lifetime, refresh_token: `rt-${n}` }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/token`, counts, total: () => n, close: () => new Promise((r) => server.close(r)) };
}

async function redisServer() {
  const port = await freePort();
  const p = spawn(SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.add(p);
  const cli = async (...args) => (await run(CLI, ['-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();
  const end = Date.now() + 10_000;
  while ((await cli('PING').catch(() => '')) !== 'PONG') {
    if (Date.now() > end) throw new Error('bench: redis-server did not start');
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, cli, stop: () => p.kill('SIGKILL') };
}

/** Every command Redis has executed, INFO itself excluded. */
async function commandCount(redis) {
  const stats = await redis.cli('INFO', 'commandstats');
  let total = 0;
  for (const m of stats.matchAll(/cmdstat_([a-z|_-]+):calls=(\d+)/g)) if (m[1] !== 'info') total += Number(m[2]);
  return total;
}

function forkWorker(file, env) {
  const child = fork(file, [], { env: { ...process.env, ...env }, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function message(child, type, ms = 120_000) {
  return bounded(new Promise((resolve) => child.on('message', function on(m) {
    if (m.type === type) {
      child.off('message', on);
      resolve(m);
    }
  })), ms, type);
}

async function herd(redis) {
  const tokens = await tokenServer(3);
  const workers = Array.from({ length: 4 }, () => forkWorker(FLEET_WORKER, { REDIS_URL: redis.url, TOKEN_URL: tokens.url, STORE_KEY: 'bench-herd' }));
  await Promise.all(workers.map((w) => message(w, 'ready', 20_000)));
  const burst = async () => {
    const replies = workers.map((w, i) => {
      const reply = message(w, 'burst');
      w.send({ type: 'burst', callers: 250, id: i });
      return reply;
    });
    const results = (await Promise.all(replies)).flatMap((r) => r.results);
    return { failed: results.filter((r) => !r.ok).length, slowestMs: Math.max(...results.map((r) => r.ms)) };
  };
  const before = tokens.total();
  const cold = await burst();
  const coldRequests = tokens.total() - before;
  await sleep(3300);
  const mid = tokens.total();
  const expiry = await burst();
  const expiryRequests = tokens.total() - mid;
  for (const w of workers) w.kill('SIGKILL');
  await tokens.close();
  return { coldRequests, expiryRequests, failed: cold.failed + expiry.failed, slowestMs: Math.max(cold.slowestMs, expiry.slowestMs) };
}

async function warm(variant, redis, tokens) {
  const child = forkWorker(WARM_WORKER, { VARIANT: variant, REDIS_URL: redis.url, TOKEN_URL: tokens.url });
  let commands = 0;
  const start = message(child, 'start');
  await start;
  const before = await commandCount(redis);
  const endMessage = message(child, 'end');
  child.send({ type: 'go' });
  await endMessage;
  commands = (await commandCount(redis)) - before;
  const result = message(child, 'result');
  child.send({ type: 'go' });
  const r = await result;
  return { ...r, commands };
}

const redis = await redisServer();
try {
  const fleet = await herd(redis);
  const tokens = await tokenServer(3600);
  const CALLS = 1_000_000;
  // Alternating fresh processes, the median of each: the machine is shared, one run is noise.
  const runs = { memory: [], redis: [] };
  for (let round = 0; round < 5; round++) {
    runs.memory.push(await warm('memory', redis, tokens));
    runs.redis.push(await warm('redis', redis, tokens));
  }
  const median = (list) => {
    const by = (k) => list.map((r) => r[k]).sort((x, y) => x - y)[Math.floor(list.length / 2)];
    return { opsPerSecond: by('opsPerSecond'), cpuMicrosPerCall: by('cpuMicrosPerCall'), commands: Math.max(...list.map((r) => r.commands)) };
  };
  const memory = median(runs.memory);
  const onRedis = median(runs.redis);
  await tokens.close();
  const ratio = onRedis.opsPerSecond / memory.opsPerSecond;
  const perThousand = (onRedis.commands / CALLS) * 1000;
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log('@prodo-auth/redis');
  console.log(`  fleet herd, 4 processes x 250 callers: token requests from cold ${fleet.coldRequests} (goal 1), at expiry ${fleet.expiryRequests} (goal 1); failed calls ${fleet.failed}; slowest call ${fleet.slowestMs.toFixed(0)} ms`);
  console.log(`  warm getAccessToken(), memory store: ${fmt(memory.opsPerSecond)} calls/s, ${memory.cpuMicrosPerCall.toFixed(3)} CPU µs/call`);
  console.log(`  warm getAccessToken(), Redis store:  ${fmt(onRedis.opsPerSecond)} calls/s, ${onRedis.cpuMicrosPerCall.toFixed(3)} CPU µs/call`);
  console.log(`  ratio Redis/memory: ${ratio.toFixed(2)} (goal >= 0.9); by CPU per call ${(memory.cpuMicrosPerCall / onRedis.cpuMicrosPerCall).toFixed(2)}`);
  console.log(`  Redis commands per 1,000 warm calls: ${perThousand} (goal 0; at most ${onRedis.commands} over ${fmt(CALLS)} calls in a run)`);
  const goals = fleet.coldRequests === 1 && fleet.expiryRequests === 1 && fleet.failed === 0 && ratio >= 0.9 && onRedis.commands === 0;
  console.log(`  goals ${goals ? 'met' : 'NOT met'}`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  redis.stop();
}
