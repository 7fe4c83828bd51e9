#!/usr/bin/env node
// Benchmarks attachProdoAuth against the built package (`npx tsdown` first), in one run:
//  (a) the cost of the interceptor per request, for each URL form an application uses:
//      relative url + baseURL, absolute url without baseURL, absolute url with baseURL. Each form
//      runs with a static Authorization header (the baseline) and with attachProdoAuth, every run in
//      a fresh node process (so neither inherits the other's JIT state or heap), alternating which
//      goes first, for a few rounds. The API server runs in this parent process, so a child's
//      process.cpuUsage() is the client side only. CPU µs per request is the figure to read: on a
//      shared machine other processes stretch wall time (requests/s) but not this process's CPU
//      time. The ratio (interceptor / static header) is the median of the per-round ratios, each
//      of two runs next to each other in time; it is reported, never enforced;
//  (b) the interceptor pair alone (no network): CPU µs per request of attachProdoAuth's request
//      and response handlers on a config as axios hands it over, per URL form. It is the figure
//      the end-to-end ratio is made of, and steady even on a busy machine;
//  (c) the 401 herd: N concurrent requests whose token the API has just revoked, and how many
//      token requests reach the token endpoint (goal: exactly 1).
// Exits 1 only if the herd makes more than one token request (a correctness failure, not noise).
// Loopback only; bounded: ROUNDS x 6 child runs of about WARMUP_MS + MEASURE_MS each, a few
// seconds for (b), and the herd.
// Environment: BENCH_ROUNDS (default 7), BENCH_MEASURE_MS (default 1000), BENCH_FORMS (a comma
// list of the URL forms below, default all).
import { spawn } from 'node:child_process';
import { createServer, Agent } from 'node:http';
import { arch, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import axios, { AxiosHeaders } from 'axios';
import { clientCredentialsGrant, createTokenClient } from '@prodo-auth/core';
import { attachProdoAuth } from '../dist/index.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 1000);
const WARMUP_MS = 500;
const CHILD_TIMEOUT_MS = 30_000;
const CONCURRENCY = 16;
const CPU_RATIO_GOAL = 1.05;
const HERD_SIZES = [100, 500, 1000];
const ALL_FORMS = {
  relative: 'relative url + baseURL',
  'absolute-no-base': 'absolute url, no baseURL',
  'absolute-with-base': 'absolute url + baseURL',
};
const FORMS = Object.fromEntries(
  Object.entries(ALL_FORMS).filter(([form]) => (process.env.BENCH_FORMS ?? form).split(',').includes(form)),
);
const MODES = { static: 'static Authorization header', attach: 'attachProdoAuth interceptor' };

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

function newClient(origin) {
  return createTokenClient({
    grant: clientCredentialsGrant({ tokenUrl: `${origin}/token`, clientId: 'bench', clientSecret: 'bench-secret' }),
    apiUrl: origin,
  });
}

/** Completed requests per second, and CPU µs per request, with CONCURRENCY requests in flight over `ms` milliseconds. */
async function measure(get, ms) {
  let done = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const res = await get();
      if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const { user, system } = process.cpuUsage(cpu);
  return { rps: done / ((performance.now() - start) / 1000), cpuUs: (user + system) / done };
}

/** A child process: one URL form, one mode, against the parent's server; prints one JSON line. */
async function child(origin, form, mode) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const api = axios.create({ ...(form === 'absolute-no-base' ? {} : { baseURL: origin }), httpAgent: agent });
  const url = form === 'relative' ? '/api/things' : `${origin}/api/things`;
  const client = newClient(origin);
  if (mode === 'attach') attachProdoAuth(api, client);
  else api.defaults.headers.common.Authorization = 'Bearer static-token';
  const get = () => api.get(url);
  await measure(get, WARMUP_MS);
  const result = await measure(get, MEASURE_MS);
  await client.close();
  agent.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(origin, form, mode) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', origin, form, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let out = '';
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${form}/${mode} exited with ${code}`))));
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** CPU µs per request of the interceptor pair alone, per URL form: median of 5 runs of `n`, minus the config's own cost. */
async function interceptorCost(origin, n = 50_000) {
  const client = newClient(origin);
  await client.getAccessToken();
  const costs = {};
  for (const form of Object.keys(FORMS)) {
    const api = axios.create(form === 'absolute-no-base' ? {} : { baseURL: origin });
    attachProdoAuth(api, client);
    const request = api.interceptors.request.handlers.find(Boolean).fulfilled;
    const response = api.interceptors.response.handlers.find(Boolean).fulfilled;
    const url = form === 'relative' ? '/api/things' : `${origin}/api/things`;
    // What axios's request() builds before the interceptors run: the merged config, AxiosHeaders.
    const config = () => ({ ...api.defaults, url, method: 'get', headers: AxiosHeaders.concat(api.defaults.headers.common, api.defaults.headers.get) });
    const withInterceptors = async () => {
      const sent = await request(config());
      response({ status: 200, statusText: 'OK', headers: new AxiosHeaders({ 'content-type': 'application/json' }), config: sent, data: {} });
    };
    const without = async () => config();
    const time = async (fn) => {
      const cpu = process.cpuUsage();
      for (let i = 0; i < n; i++) await fn();
      const { user, system } = process.cpuUsage(cpu);
      return (user + system) / n;
    };
    await time(withInterceptors);
    await time(without);
    const runs = [];
    for (let r = 0; r < 5; r++) runs.push((await time(withInterceptors)) - (await time(without)));
    costs[form] = median(runs);
  }
  await client.close();
  return costs;
}

/** N requests at once, all with a token the API has just revoked. */
async function benchHerd(server, size) {
  const agent = new Agent({ keepAlive: true });
  const api = axios.create({ baseURL: server.origin, httpAgent: agent });
  const client = newClient(server.origin);
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

async function main() {
  const server = await startServer();
  let herdOk = true;
  try {
    console.log(`prodo-auth axios bench (axios ${axios.VERSION}, node ${process.version}, ${platform()} ${arch()})\n`);

    const staticCpu = {};
    const runs = Object.fromEntries(Object.keys(FORMS).map((form) => [form, { static: [], attach: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const form of Object.keys(FORMS)) {
        // Alternate which mode goes first, so neither always runs on the warmer or noisier half.
        const order = (round + Object.keys(FORMS).indexOf(form)) % 2 === 0 ? ['static', 'attach'] : ['attach', 'static'];
        for (const mode of order) runs[form][mode].push(await runChild(server.origin, form, mode));
      }
    }

    console.log(`axios GET over keep-alive, ${CONCURRENCY} in flight: medians of ${ROUNDS} fresh processes per cell, ${MEASURE_MS} ms each;`);
    console.log('ratios: medians of the per-round ratios (attachProdoAuth / static header)');
    const w = [28, 30, 12, 16];
    console.log(row(['URL form', 'mode', 'requests/s', 'CPU µs/request'], w));
    for (const [form, label] of Object.entries(FORMS)) {
      const cells = {};
      for (const [mode, modeLabel] of Object.entries(MODES)) {
        const rs = runs[form][mode];
        cells[mode] = { rps: median(rs.map((r) => r.rps)), cpuUs: median(rs.map((r) => r.cpuUs)) };
        console.log(row([mode === 'static' ? label : '', modeLabel, fmt(cells[mode].rps), fmt(cells[mode].cpuUs, 1)], w));
      }
      const ratios = runs[form].attach.map((r, i) => r.cpuUs / runs[form].static[i].cpuUs);
      const cpuRatio = median(ratios);
      const rpsRatio = median(runs[form].attach.map((r, i) => r.rps / runs[form].static[i].rps));
      const perRound = ratios.map((r) => fmt(r, 2)).join(' ');
      console.log(row(['', 'ratio CPU/request', `${fmt(cpuRatio, 3)}`, `goal <= ${fmt(CPU_RATIO_GOAL, 2)}: ${cpuRatio <= CPU_RATIO_GOAL ? 'met' : 'NOT met'}`], w));
      console.log(row(['', 'ratio requests/s', fmt(rpsRatio, 3), `per round CPU: ${perRound}`], w));
      staticCpu[form] = cells.static.cpuUs;
    }

    const costs = await interceptorCost(server.origin);
    console.log('\nthe interceptor pair alone (no network): CPU µs per request, and the ratio it implies over the static header');
    const w3 = [28, 16, 16];
    console.log(row(['URL form', 'CPU µs/request', 'implied ratio'], w3));
    for (const [form, label] of Object.entries(FORMS)) {
      console.log(row([label, fmt(costs[form], 2), fmt(1 + costs[form] / staticCpu[form], 3)], w3));
    }

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
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5]);
else await main();
