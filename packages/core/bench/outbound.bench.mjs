#!/usr/bin/env node
// Benchmarks outbound calls against the built package (run `npx tsdown` first).
//
//  (a) cost per call: each variant runs in a fresh node process (spawned per round, the order
//      rotating between rounds), against a local keep-alive API served by this parent process, so
//      the child's process.cpuUsage() is the client's cost alone. Reported: requests per second and
//      CPU microseconds per call (the steadier figure on a shared machine), medians over rounds, and
//      ratios to the baseline measured in the same round (the plain fetch, or undici request, with a
//      static Authorization header), whose median is reported: pairing within a round cancels the
//      drift of a shared machine. Variants use the inputs users pass: a relative path joined onto the
//      apiUrl's path, an absolute URL string, a URL object. Ratios are reported, never enforced.
//  (b) the 401 herd: N concurrent requests that all get a 401 at once: how many token requests
//      follow (goal: exactly 1) and whether all N succeed on their one retry.
// Exits 1 only if the herd makes more than one token request or a request fails (a correctness
// failure, not noise). Loopback only; bounded: a few seconds per variant.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { arch, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { authInterceptor, createAuthorizedFetch, createTokenClient, passwordGrant } from '../dist/index.mjs';

const ROUNDS = 5;
const WARMUP_MS = 300;
const MEASURE_MS = 1000;
const IN_FLIGHT = 16;
const CPU_GOAL = 1.05;
const HERD = 500;
const STATIC_TOKEN = 'bench-static-token';
const API_PATH = '/v1';

/** [name, group, label]; the first of each group is its baseline. */
const VARIANTS = [
  ['fetch-static', 'fetch', 'global fetch, static Authorization header'],
  ['authorized-relative', 'fetch', "createAuthorizedFetch('things'), joined onto apiUrl /v1"],
  ['authorized-absolute', 'fetch', 'createAuthorizedFetch(absolute URL string)'],
  ['authorized-url-object', 'fetch', 'createAuthorizedFetch(URL object)'],
  ['undici-fetch-static', 'undici-fetch', "undici's fetch, static Authorization header"],
  ['client-fetch', 'undici-fetch', "client.fetch('things')"],
  ['request-static', 'request', 'undici request, static Authorization header'],
  ['request-noop', 'request', '  the same through a no-op interceptor'],
  ['request-interceptor', 'request', 'undici request via authInterceptor(client)'],
];

function newClient(tokenUrl, apiUrl) {
  return createTokenClient({
    grant: passwordGrant({ tokenUrl, clientId: 'bench', username: 'bench-user', password: 'bench-password' }),
    apiUrl,
  });
}

// ---- child: one variant, one process -------------------------------------------------------

/** The send function of a variant, and what to close after. */
function variantSender(name, tokenUrl, apiBase) {
  const apiUrl = `${apiBase}${API_PATH}`;
  const url = `${apiUrl}/things`;
  const urlObject = new URL(url);
  const client = newClient(tokenUrl, apiUrl);
  const closers = [() => client.close()];
  const staticHeaders = { authorization: `Bearer ${STATIC_TOKEN}` };
  const viaFetch = (doFetch) => async () => {
    const res = await doFetch();
    await res.arrayBuffer();
    return res.status;
  };
  const viaRequest = (dispatcher, headers) => async () => {
    const res = await request(url, { dispatcher, headers });
    await res.body.dump();
    return res.statusCode;
  };
  const agent = (...interceptors) => {
    const a = new Agent();
    closers.push(() => a.close());
    return interceptors.length === 0 ? a : a.compose(...interceptors);
  };
  const apiFetch = createAuthorizedFetch(client);
  const senders = {
    'fetch-static': viaFetch(() => globalThis.fetch(url, { headers: staticHeaders })),
    'authorized-relative': viaFetch(() => apiFetch('things')),
    'authorized-absolute': viaFetch(() => apiFetch(url)),
    'authorized-url-object': viaFetch(() => apiFetch(urlObject)),
    'undici-fetch-static': viaFetch(() => undiciFetch(url, { headers: staticHeaders })),
    'client-fetch': viaFetch(() => client.fetch('things')),
    'request-static': viaRequest(agent(), staticHeaders),
    'request-noop': viaRequest(agent((dispatch) => (opts, handler) => dispatch(opts, handler)), staticHeaders),
    'request-interceptor': viaRequest(agent(authInterceptor(client)), undefined),
  };
  return { client, send: senders[name], close: () => Promise.all(closers.map((c) => c())) };
}

/** Calls of `send`, IN_FLIGHT at a time, for `ms`; throws on any non-200. */
async function run(send, ms) {
  let calls = 0;
  let failed = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      if ((await send()) !== 200) failed++;
      calls++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (failed > 0) throw new Error(`${failed} requests failed`);
  return calls;
}

async function child(name, tokenUrl, apiBase) {
  const { client, send, close } = variantSender(name, tokenUrl, apiBase);
  await client.getAccessToken();
  await run(send, WARMUP_MS);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const calls = await run(send, MEASURE_MS);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  await close();
  process.stdout.write(JSON.stringify({ calls, ms, cpuMicros: cpu.user + cpu.system }));
}

// ---- parent: servers, rounds, report ---------------------------------------------------------

/** A token endpoint and a protected API, each on its own 127.0.0.1 port. */
async function startServers() {
  const live = new Set([STATIC_TOKEN]);
  let issued = 0;
  let tokenRequests = 0;
  /** When set, the API holds requests carrying this token until `herd.size` arrived, then rejects them all. */
  let herd;
  const body = JSON.stringify({ ok: true });

  const tokenServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      tokenRequests++;
      const accessToken = `bench-at-${++issued}`;
      live.add(accessToken);
      const text = JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, refresh_token: `bench-rt-${issued}` });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const reject = (res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-length': 0 });
    res.end();
  };
  const api = createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (herd !== undefined && token === herd.token) {
      herd.held.push(res);
      if (herd.held.length === herd.size) {
        live.delete(herd.token);
        for (const r of herd.held) reject(r);
      }
      return;
    }
    if (!live.has(token)) return reject(res);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  api.keepAliveTimeout = 30_000;
  const listen = (s) => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${s.address().port}`)));
  const [tokenBase, apiUrl] = await Promise.all([listen(tokenServer), listen(api)]);
  const close = (s) =>
    new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return {
    tokenUrl: `${tokenBase}/token`,
    apiUrl,
    tokenRequests: () => tokenRequests,
    startHerd: (token, size) => {
      herd = { token, size, held: [] };
      return herd;
    },
    endHerd: () => (herd = undefined),
    close: () => Promise.all([close(tokenServer), close(api)]),
  };
}

/** One variant in a fresh node process; its own measurement, as JSON. */
function spawnVariant(name, servers) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', name, servers.tokenUrl, servers.apiUrl], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => proc.kill(), 30_000);
    proc.stdout.on('data', (d) => (out += d));
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`variant ${name} exited with ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** HERD requests that all get a 401 at once; each retries once. */
async function benchHerd(servers, kind) {
  const client = newClient(servers.tokenUrl, servers.apiUrl);
  const agent = new Agent();
  const apiFetch = createAuthorizedFetch(client);
  const authorizedAgent = agent.compose(authInterceptor(client));
  const url = `${servers.apiUrl}/things`;
  const send =
    kind === 'createAuthorizedFetch'
      ? async () => {
          const res = await apiFetch(url);
          await res.arrayBuffer();
          return res.status;
        }
      : async () => {
          const res = await request(url, { dispatcher: authorizedAgent });
          await res.body.dump();
          return res.statusCode;
        };
  const first = await client.getAccessToken();
  const herd = servers.startHerd(first, HERD);
  const before = servers.tokenRequests();
  const start = performance.now();
  const statuses = await Promise.all(Array.from({ length: HERD }, send));
  const ms = performance.now() - start;
  const tokenRequests = servers.tokenRequests() - before;
  const rejectedAtOnce = herd.held.length;
  servers.endHerd();
  await Promise.all([client.close(), agent.close()]);
  return { kind, tokenRequests, ok: statuses.filter((s) => s === 200).length, rejectedAtOnce, ms };
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();

async function parent() {
  const servers = await startServers();
  let herdOk = true;
  try {
    console.log(`prodo-auth core outbound bench (node ${process.version}, ${platform()} ${arch()})\n`);
    console.log(
      `cost per call: each variant in a fresh process, ${ROUNDS} rounds (order rotating) of ${MEASURE_MS} ms after ` +
        `${WARMUP_MS} ms warm-up, ${IN_FLIGHT} requests in flight, local keep-alive API; medians`,
    );
    const results = new Map(VARIANTS.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const [name] = VARIANTS[(round + k) % VARIANTS.length];
        results.get(name).push(await spawnVariant(name, servers));
      }
    }
    const w = [58, 12, 12, 10, 10];
    console.log(row(['', 'requests/s', 'CPU us/call', 'rps ratio', 'CPU ratio'], w));
    const rpsOf = (r) => r.calls / (r.ms / 1000);
    const cpuOf = (r) => r.cpuMicros / r.calls;
    const baselineOf = new Map();
    const cpuRatios = new Map();
    for (const [name, group, label] of VARIANTS) {
      if (!baselineOf.has(group)) baselineOf.set(group, name);
      const runs = results.get(name);
      const base = results.get(baselineOf.get(group));
      // Each round's variant against the same round's baseline.
      const rpsRatio = median(runs.map((r, i) => rpsOf(r) / rpsOf(base[i])));
      const cpuRatio = median(runs.map((r, i) => cpuOf(r) / cpuOf(base[i])));
      cpuRatios.set(name, cpuRatio);
      console.log(row([label, fmt(median(runs.map(rpsOf))), fmt(median(runs.map(cpuOf)), 1), fmt(rpsRatio, 2), fmt(cpuRatio, 2)], w));
    }
    for (const name of ['authorized-relative', 'authorized-absolute', 'authorized-url-object']) {
      const ratio = cpuRatios.get(name);
      console.log(`${name}: CPU per call ${fmt(ratio, 3)} x plain fetch (goal <= ${CPU_GOAL}: ${ratio <= CPU_GOAL ? 'met' : 'not met'} here)`);
    }

    console.log(`\nthe 401 herd: ${fmt(HERD)} concurrent requests, all rejected at once, each retried once`);
    const w2 = [22, 16, 15, 10, 8];
    console.log(row(['', 'rejected at once', 'token requests', 'succeeded', 'time'], w2));
    for (const kind of ['createAuthorizedFetch', 'authInterceptor']) {
      const h = await benchHerd(servers, kind);
      const met = h.tokenRequests === 1 && h.ok === HERD && h.rejectedAtOnce === HERD;
      if (!met) herdOk = false;
      console.log(row([kind, fmt(h.rejectedAtOnce), `${h.tokenRequests} (goal 1 ${met ? 'met' : 'NOT met'})`, `${fmt(h.ok)}/${fmt(HERD)}`, `${fmt(h.ms, 1)} ms`], w2));
    }
  } finally {
    await servers.close();
  }
  if (!herdOk) {
    console.error('\nthe 401 herd broke: more than one token request, or a request that did not succeed on its retry');
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5]);
else await parent();
