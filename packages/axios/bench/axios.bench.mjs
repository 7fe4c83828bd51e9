#!/usr/bin/env node
// Benchmarks attachProdoAuth against the built package (`npx tsdown` first), in one run:
//  (a) axios requests per second through the interceptor next to the same instance with a static
//      Authorization header, against a local keep-alive server (in this process), in interleaved
//      rounds so both see the same machine noise; the ratio of the medians is reported, never
//      enforced. CPU time per request is reported beside it: on a shared machine it is the steadier
//      of the two, as other processes stretch wall time but not this process's CPU time;
//  (b) the 401 herd: N concurrent requests whose token the API has just revoked, and how many
//      token requests reach the token endpoint (goal: exactly 1).
// Exits 1 only if the herd makes more than one token request (a correctness failure, not noise).
import { createServer, Agent } from 'node:http';
import { arch, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import axios from 'axios';
import { clientCredentialsGrant, createTokenClient } from '@prodo-auth/core';
import { attachProdoAuth } from '../dist/index.mjs';

const ROUNDS = 21;
const ROUND_MS = 300;
const CONCURRENCY = 16;
const RATIO_GOAL = 0.95;
const HERD_SIZES = [100, 500, 1000];

/** One server: a token endpoint at /token issuing tok-1, tok-2, ... and an API that accepts live tokens. */
async function startServer() {
  let issued = 0;
  let tokenRequests = 0;
  const live = new Set(['static-token']);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      let status = 200;
      let body;
      if (req.url === '/token') {
        tokenRequests++;
        const token = `tok-${++issued}`;
        live.add(token);
        body = JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
      } else if (live.has(req.headers.authorization?.slice('Bearer '.length))) {
        body = '{"ok":true}';
      } else {
        status = 401;
        body = '{"error":"invalid_token"}';
      }
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    tokenRequests: () => tokenRequests,
    revokeAll: () => live.clear(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function newClient(server) {
  return createTokenClient({
    grant: clientCredentialsGrant({ tokenUrl: `${server.origin}/token`, clientId: 'bench', clientSecret: 'bench-secret' }),
    apiUrl: server.origin,
  });
}

/** Completed requests per second, and CPU µs per request, with CONCURRENCY requests in flight over `ms` milliseconds. */
async function requestsPerSecond(api, ms) {
  let done = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const res = await api.get('/api/things');
      if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const { user, system } = process.cpuUsage(cpu);
  return { rps: done / ((performance.now() - start) / 1000), cpuUs: (user + system) / done };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function benchThroughput(server) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const api = axios.create({ baseURL: server.origin, httpAgent: agent });
  const client = newClient(server);
  let detach;
  // The same instance both ways: attached, or detached with a fixed header.
  const withInterceptor = () => {
    delete api.defaults.headers.common.Authorization;
    detach = attachProdoAuth(api, client);
    return requestsPerSecond(api, ROUND_MS).finally(() => detach());
  };
  const withStaticHeader = () => {
    api.defaults.headers.common.Authorization = 'Bearer static-token';
    return requestsPerSecond(api, ROUND_MS);
  };
  await withStaticHeader();
  await withInterceptor();
  const tokensBefore = server.tokenRequests();

  const baseline = [];
  const measured = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on the warmer or noisier half.
    if (round % 2 === 0) {
      baseline.push(await withStaticHeader());
      measured.push(await withInterceptor());
    } else {
      measured.push(await withInterceptor());
      baseline.push(await withStaticHeader());
    }
  }
  const tokenRequests = server.tokenRequests() - tokensBefore;
  await client.close();
  agent.destroy();
  const medians = (rounds) => ({ rps: median(rounds.map((r) => r.rps)), cpuUs: median(rounds.map((r) => r.cpuUs)) });
  return { baseline: medians(baseline), measured: medians(measured), tokenRequests };
}

/** N requests at once, all with a token the API has just revoked. */
async function benchHerd(server, size) {
  const agent = new Agent({ keepAlive: true });
  const api = axios.create({ baseURL: server.origin, httpAgent: agent });
  const client = newClient(server);
  attachProdoAuth(api, client);
  await api.get('/api/warm');
  server.revokeAll();
  const before = server.tokenRequests();
  const start = performance.now();
  const results = await Promise.allSettled(Array.from({ length: size }, (_, i) => api.get(`/api/herd/${i}`)));
  const ms = performance.now() - start;
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
  await client.close();
  agent.destroy();
  return { size, requests: server.tokenRequests() - before, ok, ms };
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();

const server = await startServer();
let herdOk = true;
try {
  console.log(`prodo-auth axios bench (axios ${axios.VERSION}, node ${process.version}, ${platform()} ${arch()})\n`);

  const t = await benchThroughput(server);
  const ratio = t.measured.rps / t.baseline.rps;
  const cpuRatio = t.baseline.cpuUs / t.measured.cpuUs;
  const verdict = (r) => `${fmt(r, 3)}   goal >= ${fmt(RATIO_GOAL, 2)}: ${r >= RATIO_GOAL ? 'met' : 'NOT met'}`;
  const w1 = [36, 14, 16];
  console.log(`axios GET over keep-alive, ${CONCURRENCY} in flight: medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms`);
  console.log(row(['', 'requests/s', 'CPU µs/request'], w1));
  console.log(row(['static Authorization header', fmt(t.baseline.rps), fmt(t.baseline.cpuUs, 1)], w1));
  console.log(row(['attachProdoAuth interceptor', fmt(t.measured.rps), fmt(t.measured.cpuUs, 1)], w1));
  console.log(row(['ratio (requests/s)', verdict(ratio)], w1));
  console.log(row(['ratio (CPU per request, inverted)', verdict(cpuRatio)], w1));
  console.log(row(['token requests while warm', `${t.tokenRequests}   goal 0: ${t.tokenRequests === 0 ? 'met' : 'NOT met'}`], w1));

  console.log('\n401 herd: concurrent requests whose token was just revoked, token requests they cause');
  const w2 = [8, 15, 10, 13, 10];
  console.log(row(['requests', 'token requests', 'goal', 'succeeded', 'time'], w2));
  for (const size of HERD_SIZES) {
    const r = await benchHerd(server, size);
    const met = r.requests === 1 && r.ok === r.size;
    if (!met) herdOk = false;
    console.log(row([fmt(r.size), r.requests, `1 ${met ? 'met' : 'NOT met'}`, `${fmt(r.ok)}/${fmt(r.size)}`, `${fmt(r.ms, 1)} ms`], w2));
  }
} finally {
  await server.close();
}
if (!herdOk) {
  console.error('\n401 herd broken: more than one token request, or a request failed');
  process.exitCode = 1;
}
