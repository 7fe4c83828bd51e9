/**
 * The fleet, for real: child processes (the built dist of core and of this package), a real
 * redis-server and a token server that revokes a whole token family when a refresh token is
 * presented twice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisTokenStore } from '../src/index.js';
import { startWorker, type CallResult, type Worker } from './helpers/fleet.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';
import { startTokenServer, type TokenServer } from './helpers/token-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The token client's deadline for one token request in the workers (its lock TTL is 2 x this + 1 s). */
const TIMEOUT_MS = 1500;

let redis: RedisServer;
let workers: Worker[] = [];
let server: TokenServer | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.close()));
  workers = [];
  await server?.close();
  server = undefined;
  await redis.cli('FLUSHALL');
});
afterAll(async () => {
  await redis?.stop();
});

const fleet = async (count: number, client: string, lifetimeSeconds: number, grant = 'password'): Promise<{ ws: Worker[]; tokens: TokenServer }> => {
  const tokens = await startTokenServer(lifetimeSeconds);
  server = tokens;
  const ws = await Promise.all(
    Array.from({ length: count }, () =>
      startWorker({ REDIS_URL: redis.url, TOKEN_URL: tokens.url, CLIENT: client, TIMEOUT_MS: String(TIMEOUT_MS), GRANT: grant }),
    ),
  );
  workers.push(...ws);
  return { ws, tokens };
};
const failures = (results: CallResult[]): CallResult[] => results.filter((r) => !r.ok);
const grants = (tokens: TokenServer): string[] => tokens.requests.map((r) => r.grant);
const presentedTwice = (tokens: TokenServer): string[] => {
  const seen = tokens.requests.flatMap((r) => (r.refreshToken === undefined ? [] : [r.refreshToken]));
  return seen.filter((t, i) => seen.indexOf(t) !== i);
};

for (const client of ['redis', 'ioredis']) {
  describe(`fleet (${client})`, () => {
    it('4 processes x 250 callers make exactly 1 token request from cold, and exactly 1 at expiry', async () => {
      const { ws, tokens } = await fleet(4, client, 3);
      const cold = await Promise.all(ws.map((w) => w.burst(250)));
      const coldResults = cold.flatMap((b) => b.results);
      expect(failures(coldResults)).toEqual([]);
      expect(coldResults).toHaveLength(1000);
      expect(grants(tokens)).toEqual(['password']);
      expect(new Set(coldResults.map((r) => r.token))).toEqual(new Set([tokens.requests[0]!.issued]));

      await sleep(3300); // the access token has expired everywhere
      const expired = await Promise.all(ws.map((w) => w.burst(250)));
      const expiredResults = expired.flatMap((b) => b.results);
      expect(failures(expiredResults)).toEqual([]);
      expect(grants(tokens)).toEqual(['password', 'refresh_token']);
      expect(new Set(expiredResults.map((r) => r.token))).toEqual(new Set([tokens.requests[1]!.issued]));
      expect(tokens.reuses).toEqual([]);
    });
  });
}

describe('fleet (node-redis)', () => {
  it('rotates refresh tokens across the fleet over several expiries without ever presenting one twice', async () => {
    const { ws, tokens } = await fleet(4, 'redis', 2);
    const refreshes = (): number => grants(tokens).filter((g) => g === 'refresh_token').length;
    // A 2 s token is refreshed after 1 s: rounds of load until several expiries went by, one
    // refresh each. On a starved machine a token can arrive already due for refresh, and the
    // client then serves it a while before asking again (core's stale backoff), so the number of
    // refreshes per second varies: the rounds go on until there were 4 (at most 8 rounds).
    const results: CallResult[] = [];
    for (let round = 0; round < 8 && refreshes() < 4; round++) {
      const loads = await Promise.all(ws.map((w) => w.load(3000, 5, 10)));
      results.push(...loads.flatMap((l) => l.results));
    }
    expect(failures(results)).toEqual([]);
    expect(tokens.reuses).toEqual([]);
    expect(presentedTwice(tokens)).toEqual([]);
    expect(refreshes()).toBeGreaterThanOrEqual(4);
    expect(grants(tokens).filter((g) => g === 'password')).toEqual(['password']);
    // Every call got a token the server still honours, or had honoured when it was served.
    expect(results.every((r) => r.token?.startsWith('at-'))).toBe(true);
  }, 60_000);

  it('a lock holder SIGKILLed before it sends is taken over within the lock TTL, and no caller fails', async () => {
    const { ws, tokens } = await fleet(3, 'redis', 2);
    const [holder, ...others] = ws as [Worker, ...Worker[]];
    await holder.burst(1);
    await holder.hangInLock();
    await sleep(2200);
    void holder.burst(5).catch(() => undefined);
    await holder.holding;
    holder.kill('SIGKILL');
    const started = performance.now();
    const after = await Promise.all(others.map((w) => w.burst(250)));
    const results = after.flatMap((b) => b.results);
    expect(failures(results)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 2 + 1000 + 2000);
    // The refresh token the dead holder never sent was sent once, by the process that took over.
    expect(grants(tokens)).toEqual(['password', 'refresh_token']);
    expect(tokens.reuses).toEqual([]);
  });

  it('a holder SIGKILLed after sending (the new refresh token died with it) leaves no spent refresh token: the next holder logs in with the primary grant', async () => {
    const { ws, tokens } = await fleet(3, 'redis', 2);
    const [holder, ...others] = ws as [Worker, ...Worker[]];
    await holder.burst(1);
    await sleep(2200);
    tokens.beforeRefresh = () => {
      // Killed between the token response and the store write: stopped now, the answer goes out
      // into its socket, and it is killed before it ever reads it.
      holder.kill('SIGSTOP');
      setTimeout(() => holder.kill('SIGKILL'), 100);
      return Promise.resolve();
    };
    void holder.burst(5).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (holder.process.signalCode !== 'SIGKILL' && Date.now() < deadline) await sleep(20);
    expect(holder.process.signalCode).toBe('SIGKILL');
    const after = await Promise.all(others.map((w) => w.burst(250)));
    expect(failures(after.flatMap((b) => b.results))).toEqual([]);
    // The refresh token the holder spent was never presented again: a fresh login instead.
    expect(grants(tokens)).toEqual(['password', 'refresh_token', 'password']);
    expect(tokens.reuses).toEqual([]);
  });

  it('a user session whose holder was SIGKILLed after sending fails with ReauthenticationRequiredError, never sending the spent refresh token', async () => {
    const { ws, tokens } = await fleet(2, 'redis', 60, 'code');
    const [holder, other] = ws as [Worker, Worker];
    // The session's tokens, as the login's code exchange got them.
    const seed = (await (await fetch(tokens.url, { method: 'POST', body: new URLSearchParams({ grant_type: 'password' }) })).json()) as Record<string, string>;
    await holder.setTokens(seed.access_token!, seed.refresh_token!, 800);
    await sleep(1000);
    tokens.beforeRefresh = () => {
      holder.kill('SIGSTOP');
      setTimeout(() => holder.kill('SIGKILL'), 100);
      return Promise.resolve();
    };
    void holder.burst(1).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (holder.process.signalCode !== 'SIGKILL' && Date.now() < deadline) await sleep(20);
    const after = await other.burst(5);
    expect(after.results.map((r) => r.code)).toEqual(Array(5).fill('ERR_PRODO_AUTH_REAUTHENTICATION_REQUIRED'));
    expect(grants(tokens)).toEqual(['password', 'refresh_token']);
    expect(tokens.reuses).toEqual([]);
  });

  it('a holder SIGSTOPped past its lock TTL and resumed cannot write back: the stored tokens never go backwards', async () => {
    const { ws, tokens } = await fleet(3, 'redis', 2);
    const [holder, ...others] = ws as [Worker, ...Worker[]];
    await holder.burst(1);
    await sleep(2200);
    let answer!: () => void;
    const held = new Promise<void>((r) => (answer = r));
    tokens.beforeRefresh = () => {
      holder.kill('SIGSTOP');
      return held;
    };
    const paused = holder.burst(5);
    const deadline = Date.now() + 10_000;
    while (tokens.requests.length < 2 && Date.now() < deadline) await sleep(20);
    const after = await Promise.all(others.map((w) => w.burst(250)));
    expect(failures(after.flatMap((b) => b.results))).toEqual([]);
    expect(grants(tokens)).toEqual(['password', 'refresh_token', 'password']);
    const takeover = tokens.requests[2]!.issued!;

    const { createClient } = await import('redis');
    const reader = createClient({ url: redis.url });
    await reader.connect();
    const store = redisTokenStore({ redis: reader, localCacheMs: 0 });
    try {
      expect((await store.get('fleet'))?.accessToken).toBe(takeover);
      // Resumed: its refresh is answered (or timed out, and it tries again), and its writes are refused.
      holder.kill('SIGCONT');
      answer();
      const resumed = await paused;
      const late = await holder.burst(5);
      expect(failures([...resumed.results, ...late.results])).toEqual([]);
      await sleep(500);
      expect((await store.get('fleet'))?.accessToken).toBe(takeover);
      // Its write was refused (a store error in the holder), not lost in a race.
      expect([...resumed.storeErrors, ...late.storeErrors]).toContain('set');
      expect(tokens.reuses).toEqual([]);
    } finally {
      await store.close();
      reader.destroy();
    }
  });
});

describe('fleet with Redis down, slow or hung', () => {
  /** The lock TTL the token client asks for: no call may take longer than this. */
  const CALL_DEADLINE_MS = TIMEOUT_MS * 2 + 1000;

  it('Redis stopped and restarted under load: 0 failed calls, each within its deadline, and the fleet rejoins', async () => {
    const { ws, tokens } = await fleet(2, 'redis', 2);
    const load = Promise.all(ws.map((w) => w.load(8000, 4, 20)));
    await sleep(1500);
    await redis.stop();
    await sleep(2500);
    await redis.start();
    const results = (await load).flatMap((l) => l.results);
    expect(failures(results)).toEqual([]);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(CALL_DEADLINE_MS);
    expect(tokens.reuses).toEqual([]);
    // Rejoined: the restarted (empty) Redis holds the fleet's tokens again.
    expect(await redis.cli('--scan', '--pattern', 'prodo-auth:*')).not.toBe('');
  });

  it('Redis hung (DEBUG SLEEP) under load: 0 failed calls, each within its deadline', async () => {
    const { ws, tokens } = await fleet(2, 'ioredis', 2);
    const load = Promise.all(ws.map((w) => w.load(7000, 4, 20)));
    await sleep(1500);
    await redis.cli('DEBUG', 'SLEEP', '3');
    const loads = await load;
    const results = loads.flatMap((l) => l.results);
    expect(failures(results)).toEqual([]);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(CALL_DEADLINE_MS);
    expect(tokens.reuses).toEqual([]);
    // It was seen as a store failure, and the processes carried on alone meanwhile.
    expect(loads.flatMap((l) => l.storeErrors).length).toBeGreaterThan(0);
  });
});
