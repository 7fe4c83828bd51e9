#!/usr/bin/env node
// Benchmarks the token client against the built package, in one run:
//  (a) warm getAccessToken() throughput next to a hand-written Map-and-expiry cache, measured in
//      interleaved rounds so both see the same machine noise; the ratio is reported, never enforced;
//  (b) single-flight: how many token requests reach a real local server when 1,000 and 10,000
//      callers arrive at once at an empty or an expired cache (goal: exactly 1).
// Exits 1 only if single-flight breaks (a correctness failure, not noise).
import { createServer } from 'node:http';
import { arch, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import { createTokenClient, passwordGrant } from '../dist/index.mjs';

const ROUNDS = 7;
const ROUND_MS = 250;
const BATCH = 10_000;
const RATIO_GOAL = 0.8;
const CALLER_COUNTS = [1_000, 10_000];
const SHORT_LIFETIME_S = 1;

/** A token endpoint on 127.0.0.1 that counts requests by grant type. */
async function startTokenServer() {
  const counts = { password: 0, refresh_token: 0 };
  let issued = 0;
  let lifetime = 3600;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const grantType = new URLSearchParams(body).get('grant_type') ?? 'unknown';
      counts[grantType] = (counts[grantType] ?? 0) + 1;
      issued++;
      const text = JSON.stringify({
        access_token: `bench-at-${issued}`,
        token_type: 'Bearer',
        expires_in: lifetime,
        refresh_token: `bench-rt-${issued}`,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    tokenUrl: `http://127.0.0.1:${server.address().port}/token`,
    counts,
    total: () => counts.password + counts.refresh_token,
    setLifetime: (seconds) => (lifetime = seconds),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function newClient(tokenUrl) {
  return createTokenClient({
    grant: passwordGrant({ tokenUrl, clientId: 'bench', username: 'bench-user', password: 'bench-password' }),
  });
}

/** Awaited calls per second of `fn`, over at least `ms` milliseconds. */
async function callsPerSecond(fn, ms) {
  let calls = 0;
  let sink = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let i = 0; i < BATCH; i++) sink += (await fn()).length;
    calls += BATCH;
    now = performance.now();
  }
  if (sink === 0) throw new Error('unreachable: keeps the results alive');
  return calls / ((now - start) / 1000);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function benchWarm(server) {
  // The baseline: what a team writes by hand, a Map lookup and an expiry check in an async function.
  const cache = new Map([['token', { accessToken: 'bench-at-baseline', refreshAt: Date.now() + 3_600_000 }]]);
  async function handWritten() {
    const entry = cache.get('token');
    if (entry !== undefined && Date.now() < entry.refreshAt) return entry.accessToken;
    throw new Error('the baseline cache went cold');
  }

  const client = newClient(server.tokenUrl);
  await client.getAccessToken();
  const requestsBefore = server.total();
  const prodo = () => client.getAccessToken();

  // Warm up both paths before measuring.
  await callsPerSecond(handWritten, ROUND_MS);
  await callsPerSecond(prodo, ROUND_MS);

  const baseline = [];
  const measured = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on the warmer or noisier half.
    if (round % 2 === 0) {
      baseline.push(await callsPerSecond(handWritten, ROUND_MS));
      measured.push(await callsPerSecond(prodo, ROUND_MS));
    } else {
      measured.push(await callsPerSecond(prodo, ROUND_MS));
      baseline.push(await callsPerSecond(handWritten, ROUND_MS));
    }
  }
  const warmRequests = server.total() - requestsBefore;
  await client.close();
  return { baseline: median(baseline), measured: median(measured), warmRequests };
}

/** N callers at once on a cache that is empty (a new client) or holds an expired token. */
async function benchSingleFlight(server, callers, cache) {
  const client = newClient(server.tokenUrl);
  if (cache === 'expired') {
    server.setLifetime(SHORT_LIFETIME_S);
    await client.getAccessToken();
    await sleep(SHORT_LIFETIME_S * 1000 + 100);
  }
  server.setLifetime(3600);
  const before = { ...server.counts };
  const start = performance.now();
  const tokens = await Promise.all(Array.from({ length: callers }, () => client.getAccessToken()));
  const ms = performance.now() - start;
  const sent = Object.keys(server.counts).filter((g) => server.counts[g] !== (before[g] ?? 0));
  const requests = sent.reduce((n, g) => n + server.counts[g] - (before[g] ?? 0), 0);
  const sameToken = tokens.every((t) => t === tokens[0]);
  await client.close();
  return { callers, cache, requests, grants: sent.join('+'), sameToken, ms };
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();

const server = await startTokenServer();
let singleFlightOk = true;
try {
  console.log(`prodo-auth core bench (node ${process.version}, ${platform()} ${arch()})\n`);

  const warm = await benchWarm(server);
  const ratio = warm.measured / warm.baseline;
  const w1 = [34, 16];
  console.log(`warm getAccessToken(): medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms`);
  console.log(row(['', 'calls/s'], w1));
  console.log(row(['hand-written Map + expiry check', fmt(warm.baseline)], w1));
  console.log(row(['createTokenClient().getAccessToken', fmt(warm.measured)], w1));
  console.log(row(['ratio', `${fmt(ratio, 2)}   goal >= ${fmt(RATIO_GOAL, 2)}: ${ratio >= RATIO_GOAL ? 'met' : 'NOT met'}`], w1));
  console.log(row(['token requests while warm', `${warm.warmRequests}   goal 0: ${warm.warmRequests === 0 ? 'met' : 'NOT met'}`], w1));

  console.log('\nsingle-flight: concurrent getAccessToken() callers, token requests to a local server');
  const w2 = [8, 8, 9, 9, 14, 11, 8];
  console.log(row(['callers', 'cache', 'requests', 'goal', 'grant', 'same token', 'time'], w2));
  for (const callers of CALLER_COUNTS) {
    for (const cache of ['empty', 'expired']) {
      const r = await benchSingleFlight(server, callers, cache);
      const met = r.requests === 1 && r.sameToken;
      if (!met) singleFlightOk = false;
      console.log(row([fmt(r.callers), r.cache, r.requests, `1 ${met ? 'met' : 'NOT met'}`, r.grants, r.sameToken ? 'yes' : 'no', `${fmt(r.ms, 1)} ms`], w2));
    }
  }
  console.log(`\nserver saw: ${server.counts.password} password, ${server.counts.refresh_token} refresh_token requests in all`);
} finally {
  await server.close();
}
if (!singleFlightOk) {
  console.error('\nsingle-flight broken: more than one token request for concurrent callers');
  process.exitCode = 1;
}
