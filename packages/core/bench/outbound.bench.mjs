#!/usr/bin/env node
// Benchmarks outbound calls against the built package, in one run:
//  (a) throughput: requests per second through createAuthorizedFetch next to the plain global
//      fetch with a static Authorization header, and through authInterceptor next to undici's
//      request with a static header (and through a no-op interceptor, undici's own cost of
//      composing), against a local keep-alive API; interleaved rounds, medians, the ratio reported,
//      never enforced;
//  (b) the 401 herd: N concurrent requests that all get a 401 at once: how many token requests
//      follow (goal: exactly 1) and whether all N succeed on their one retry.
// Exits 1 only if the herd makes more than one token request or a request fails (a correctness
// failure, not noise).
import { createServer } from 'node:http';
import { arch, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { authInterceptor, createAuthorizedFetch, createTokenClient, passwordGrant } from '../dist/index.mjs';

const ROUNDS = 9;
const ROUND_MS = 300;
const IN_FLIGHT = 16;
const RATIO_GOAL = 0.95;
const HERD = 500;
const STATIC_TOKEN = 'bench-static-token';

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

function newClient(servers) {
  return createTokenClient({
    grant: passwordGrant({ tokenUrl: servers.tokenUrl, clientId: 'bench', username: 'bench-user', password: 'bench-password' }),
    apiUrl: servers.apiUrl,
  });
}

/** Completed requests per second of `send`, IN_FLIGHT at a time, over at least `ms` milliseconds. */
async function requestsPerSecond(send, ms) {
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      if ((await send()) !== 200) failed++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (failed > 0) throw new Error(`${failed} requests failed during the benchmark`);
  return done / ((performance.now() - start) / 1000);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians of interleaved rounds of each variant, the order rotating so none always runs on the warmer half. */
async function compare(variants) {
  for (const send of variants) await requestsPerSecond(send, ROUND_MS);
  const results = variants.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (round + k) % variants.length;
      results[v].push(await requestsPerSecond(variants[v], ROUND_MS));
    }
  }
  return results.map(median);
}

async function benchFetch(servers) {
  const client = newClient(servers);
  const apiFetch = createAuthorizedFetch(client);
  const url = `${servers.apiUrl}/things`;
  const plain = async () => {
    const res = await globalThis.fetch(url, { headers: { authorization: `Bearer ${STATIC_TOKEN}` } });
    await res.arrayBuffer();
    return res.status;
  };
  const authorized = async () => {
    const res = await apiFetch(url);
    await res.arrayBuffer();
    return res.status;
  };
  await client.getAccessToken();
  const before = servers.tokenRequests();
  const [baseline, measured] = await compare([plain, authorized]);
  await client.close();
  return { baseline, measured, tokenRequests: servers.tokenRequests() - before };
}

async function benchInterceptor(servers) {
  const client = newClient(servers);
  const plainAgent = new Agent();
  // Any interceptor costs something: undici converts between handler APIs around it. A no-op one
  // shows that share, so the rest is authInterceptor's own.
  const noopAgent = new Agent();
  const composedNoop = noopAgent.compose((dispatch) => (opts, handler) => dispatch(opts, handler));
  const baseAgent = new Agent();
  const authorizedAgent = baseAgent.compose(authInterceptor(client));
  const url = `${servers.apiUrl}/things`;
  const withStaticHeader = (dispatcher) => async () => {
    const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${STATIC_TOKEN}` } });
    await res.body.dump();
    return res.statusCode;
  };
  const authorized = async () => {
    const res = await request(url, { dispatcher: authorizedAgent });
    await res.body.dump();
    return res.statusCode;
  };
  await client.getAccessToken();
  const before = servers.tokenRequests();
  const [baseline, noop, measured] = await compare([withStaticHeader(plainAgent), withStaticHeader(composedNoop), authorized]);
  await Promise.all([client.close(), plainAgent.close(), noopAgent.close(), baseAgent.close()]);
  return { baseline, noop, measured, tokenRequests: servers.tokenRequests() - before };
}

/** HERD requests that all get a 401 at once; each retries once. */
async function benchHerd(servers, kind) {
  const client = newClient(servers);
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

const servers = await startServers();
let herdOk = true;
try {
  console.log(`prodo-auth core outbound bench (node ${process.version}, ${platform()} ${arch()})\n`);
  console.log(`throughput: medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, ${IN_FLIGHT} requests in flight, local keep-alive API`);
  const w1 = [46, 12, 10];
  console.log(row(['', 'requests/s', ''], w1));
  const f = await benchFetch(servers);
  const fr = f.measured / f.baseline;
  console.log(row(['global fetch, static Authorization header', fmt(f.baseline)], w1));
  console.log(row(['createAuthorizedFetch(client)', fmt(f.measured)], w1));
  console.log(row(['ratio', fmt(fr, 2), `(the axios adapter's goal is >= ${fmt(RATIO_GOAL, 2)}: ${fr >= RATIO_GOAL ? 'met' : 'not met'} here)`], w1));
  console.log(row(['token requests while warm', f.tokenRequests, `goal 0: ${f.tokenRequests === 0 ? 'met' : 'NOT met'}`], w1));
  const i = await benchInterceptor(servers);
  const ir = i.measured / i.baseline;
  console.log(row(['undici request, static Authorization header', fmt(i.baseline)], w1));
  console.log(row(['  the same through a no-op interceptor', fmt(i.noop)], w1));
  console.log(row(['undici request via authInterceptor(client)', fmt(i.measured)], w1));
  console.log(row(['ratio', fmt(ir, 2), `(>= ${fmt(RATIO_GOAL, 2)}: ${ir >= RATIO_GOAL ? 'met' : 'not met'})`], w1));
  console.log(row(['ratio to the no-op interceptor', fmt(i.measured / i.noop, 2)], w1));
  console.log(row(['token requests while warm', i.tokenRequests, `goal 0: ${i.tokenRequests === 0 ? 'met' : 'NOT met'}`], w1));

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
