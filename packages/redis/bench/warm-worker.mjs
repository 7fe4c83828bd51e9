// One warm-path variant in a fresh process: a token client on the memory store or the Redis store,
// warmed up, then timed over `CALLS` getAccessToken() calls (wall time and this process's CPU).
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { createTokenClient, memoryStore, passwordGrant } from '@prodo-auth/core';
import { redisTokenStore } from '../dist/index.mjs';

const { VARIANT, REDIS_URL, TOKEN_URL } = process.env;
const CALLS = Number(process.env.CALLS ?? 1_000_000);

let redis;
let store = memoryStore();
if (VARIANT === 'redis') {
  redis = createClient({ url: REDIS_URL });
  redis.on('error', () => {});
  await redis.connect();
  store = redisTokenStore({ redis });
}
const client = createTokenClient({
  grant: passwordGrant({ tokenUrl: TOKEN_URL, clientId: 'bench', username: 'u', password: 'p' }),
  store,
  storeKey: `warm-${process.pid}`,
});
await client.getAccessToken();
for (let i = 0; i < 100_000; i++) await client.getAccessToken();

// Run alone (no parent): no pauses for the parent's counters, the result printed.
const ask = (type) =>
  process.send === undefined
    ? Promise.resolve()
    : new Promise((resolve) => {
        process.once('message', resolve);
        process.send({ type });
      });
await ask('start'); // the parent reads Redis's command counters now
const cpu = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < CALLS; i++) await client.getAccessToken();
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
await ask('end');
const result = { type: 'result', opsPerSecond: (CALLS / ms) * 1000, cpuMicrosPerCall: (used.user + used.system) / CALLS };
if (process.send === undefined) console.log(VARIANT, result);
else process.send(result);
await client.close();
await store.close?.();
redis?.destroy();
process.exit(0);
