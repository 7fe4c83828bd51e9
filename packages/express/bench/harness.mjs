// The web-adapter benchmark, with the framework as a parameter (as the adapter suite is): the
// Express bench runs it, and so does the Koa one. A bench script calls runAdapterBench() with
// its framework's apps; the same script, started with --child, is every measured process.
//
// Measured in one run, each variant in a fresh `node` process, alternating which goes first, for
// a few rounds; the figures are medians and the ratios medians of the per-round ratios:
//  1. service mode: requests per second and CPU µs per request of the app process through
//     `prodoAuth()` with a warm token (the route answers `await getAccessToken()`), next to the
//     same app without prodoAuth (the route answers a static token string). Goal: ratio >= 0.97.
//  2. user mode: the same with a session cookie (signed in once through /auth/login and the
//     callback, then a route that reads isAuthenticated and answers `await getAccessToken()`),
//     next to an app that only checks a signed cookie by hand (node:crypto HMAC, timingSafeEqual)
//     and answers a static token. Goal: ratio >= 0.90.
//  3. memory: heapUsed after gc (--expose-gc) before and after 10,000 sign-ins through core's
//     login flow (createProdoAuth, the memory stores), no framework, with the default
//     maxLiveSessions (10,000: every session has its token client in memory) and with 1,000.
//     Goal: at most 30 MB with the default.
//  4. CPU µs per request of the app as sessions grow (100, 1,000, 10,000 signed in; requests of
//     random sessions, each session used once before the measured window), the median of a few
//     fresh processes per size; with the default maxLiveSessions and with 1,000 (where most
//     requests resume their session from the store). Goal: flat.
// The load generator is this parent process (undici Pool, a fixed number of connections); the
// app runs in the child, so the child's process.cpuUsage() is the app's cost alone. On a busy
// machine other processes stretch wall time (requests/s) but not the app's CPU time, so the
// CPU-implied ratio (baseline CPU per request / prodoAuth CPU per request) is printed beside the
// requests/s one. Goals are reported, never enforced. Exits 1 only on a correctness failure: a
// request that did not answer 200, a token request while a warm token was being measured, or a
// session that did not sign in.
// Loopback only; bounded: every child has a timeout, every window a deadline.
// Environment: BENCH_ROUNDS (default 5), BENCH_MEASURE_MS (default 1000), BENCH_SESSIONS (the
// curve's sizes, default 100,1000,10000), BENCH_CURVE_ROUNDS (default 3), BENCH_ONLY (a comma list of service,user,memory,curve).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { arch, cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { URLSearchParams } from 'node:url';
import { Pool, request } from 'undici';
import { authorizationCodeGrant, createTokenClient, memoryStore, procurios } from '@prodo-auth/core';
import { createProdoAuth, memorySessionStore } from '@prodo-auth/core/adapter';
import { startMockServer } from '@prodo-auth/mock-server';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 1000);
/** Warm-up: this many requests (the JIT has compiled the hot paths), or WARMUP_MAX_MS on a starved machine. */
const WARMUP_REQUESTS = 4000;
const WARMUP_MAX_MS = 5000;
const CONNECTIONS = 16;
const CHILD_TIMEOUT_MS = 90_000;
const CURVE_SIZES = (process.env.BENCH_SESSIONS ?? '100,1000,10000').split(',').map(Number);
const CURVE_ROUNDS = Number(process.env.BENCH_CURVE_ROUNDS ?? 3);
const MEMORY_SESSIONS = 10_000;
const SIGN_IN_CONCURRENCY = 32;
const ONLY = (process.env.BENCH_ONLY ?? 'service,user,memory,curve').split(',');
/** core's default maxLiveSessions: sessions beyond it have no token client in memory. */
const DEFAULT_MAX_LIVE = 10_000;
/** The bench's small live set: most requests of 10,000 sessions then resume from the store. */
const SMALL_LIVE = 1000;
const GOALS = { service: 0.97, user: 0.9, memoryMb: 30, flat: 1.25 };

const SESSION_SECRET = 'the prodo-auth bench session secret, 32+ characters';
const BASELINE_SECRET = 'the hand-checked cookie secret of the baseline app';
const BASELINE_COOKIE = 'sid';
/** The user tokens the bench auth server issues all have this length; the baseline answers one like it. */
const USER_TOKEN_LENGTH = 28;

// ---------------------------------------------------------------------------------------------
// What the bench scripts share with their apps

/**
 * The baseline's whole session check: the `sid` cookie is `<id>.<HMAC-SHA256(id), base64url>`,
 * verified with timingSafeEqual. Returns true when the request carries a valid one.
 */
export function handCheckedCookie(header) {
  if (typeof header !== 'string') return false;
  const at = header.indexOf(`${BASELINE_COOKIE}=`);
  if (at === -1) return false;
  const end = header.indexOf(';', at);
  const value = header.slice(at + BASELINE_COOKIE.length + 1, end === -1 ? header.length : end);
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return false;
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', BASELINE_SECRET).update(value.slice(0, dot)).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function handSignedCookie() {
  const id = randomBytes(32).toString('base64url');
  return `${BASELINE_COOKIE}=${id}.${createHmac('sha256', BASELINE_SECRET).update(id).digest('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// The parent's servers: the Procurios simulator (service mode) and a small authorization server

/**
 * A standard authorization server on 127.0.0.1: /authorize approves at once, /token checks PKCE,
 * spends each code once and rotates refresh tokens. Its access tokens are all USER_TOKEN_LENGTH
 * long. A code is `<random>.<code_challenge>` (see {@link approve}), so that many sign-ins can
 * skip the authorize round trip and keep everything the login flow sees.
 */
async function startAuthServer() {
  const spent = new Set();
  const refresh = new Set();
  let issued = 0;
  let tokenRequests = 0;
  const json = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const issue = () => {
    const n = String(++issued).padStart(8, '0');
    const rt = `rt-${n}-${randomBytes(8).toString('hex')}`;
    refresh.add(rt);
    return { access_token: `at-${n}-${randomBytes(8).toString('hex')}`, token_type: 'Bearer', expires_in: 3600, refresh_token: rt };
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/authorize') {
        res.writeHead(302, { location: approve(url.href), 'content-length': 0 }).end();
        return;
      }
      if (url.pathname !== '/token') return json(res, 404, { error: 'not_found' });
      tokenRequests++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (form.get('grant_type') === 'authorization_code') {
        const code = form.get('code') ?? '';
        const challenge = code.slice(code.indexOf('.') + 1);
        const verified = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
        if (spent.has(code) || !code.includes('.') || verified !== challenge) return json(res, 400, { error: 'invalid_grant' });
        spent.add(code);
        return json(res, 200, issue());
      }
      if (form.get('grant_type') === 'refresh_token' && refresh.delete(form.get('refresh_token') ?? '')) return json(res, 200, issue());
      return json(res, 400, { error: 'invalid_grant' });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The bench auth server's answer to an authorization URL: the redirect URI with a code and the state. */
function approve(authorizationUrl) {
  const url = new URL(authorizationUrl);
  const back = new URL(url.searchParams.get('redirect_uri') ?? '');
  back.searchParams.set('code', `${randomBytes(12).toString('hex')}.${url.searchParams.get('code_challenge') ?? ''}`);
  back.searchParams.set('state', url.searchParams.get('state') ?? '');
  return back.href;
}

/** User-mode options against the bench auth server; `port` is the app's, for the redirect URI. */
function userOptions(as, port, extra = {}) {
  const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
  return {
    grant: authorizationCodeGrant({ authorizeUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, clientId: 'bench-web', clientSecret: 'bench-web-secret', redirectUri }),
    redirectUri,
    sessionSecret: SESSION_SECRET,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Signing in

const setCookiesOf = (headers) => {
  const v = headers['set-cookie'];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** Signs in through the app over HTTP: /auth/login, the authorize endpoint, the callback. Returns the session cookie. */
async function signInOverHttp(appOrigin) {
  const login = await request(`${appOrigin}/auth/login`);
  await login.body.dump();
  const binding = setCookiesOf(login.headers).map((c) => c.split(';')[0]).join('; ');
  const authorized = await request(login.headers.location);
  await authorized.body.dump();
  const back = await request(authorized.headers.location, { headers: { cookie: binding } });
  await back.body.dump();
  const session = setCookiesOf(back.headers).find((c) => c.startsWith('prodo-auth.sid='));
  if (back.statusCode !== 302 || session === undefined) throw new Error(`the callback answered ${back.statusCode} without a session`);
  return session.split(';')[0];
}

/** Signs in through core's flow directly (no app, no framework): plain requests in, results out. */
async function signInThroughFlow(flow, host) {
  const start = await flow.handle({ method: 'GET', url: '/auth/login', headers: { host } });
  if (start.kind !== 'redirect') throw new Error(`the login gave ${start.kind}`);
  // What the authorize endpoint would answer (it approves at once), without its round trip.
  const back = new URL(approve(start.location));
  const cookie = start.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const done = await flow.handle({ method: 'GET', url: back.pathname + back.search, headers: { host, cookie } });
  if (done.kind !== 'redirect' || done.cookies.length !== 1) throw new Error(`the callback gave ${done.kind} ${done.status ?? ''}`);
  return `${done.cookies[0].name}=${done.cookies[0].value}`;
}

/** Signs in `n` sessions, SIGN_IN_CONCURRENCY at a time; `keep(i, cookie)` decides what is kept. */
async function signInMany(flow, host, n, keep) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      keep(i, await signInThroughFlow(flow, host));
    }
  };
  await Promise.all(Array.from({ length: Math.min(SIGN_IN_CONCURRENCY, n) }, worker));
}

// ---------------------------------------------------------------------------------------------
// Children: each variant in a fresh process

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** The parent's messages: `start` (CPU from here), `stop` (report CPU, close, exit). */
function serveMarks(close) {
  let cpu;
  process.on('message', async (message) => {
    if (message === 'start') {
      cpu = process.cpuUsage();
      process.send({ type: 'started' });
    } else if (message === 'stop') {
      const { user, system } = process.cpuUsage(cpu);
      process.send({ type: 'cpu', us: user + system });
      await close();
      process.disconnect();
    }
  });
}

async function appChild(adapter, spec) {
  // The app's options name its own port (the redirect URI), so the server listens first.
  let listener;
  const server = createServer((req, res) => listener(req, res));
  server.keepAliveTimeout = 30_000;
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  let app;
  let cookies = [];
  if (spec.kind === 'service') {
    // Options hold functions (the grant): the child builds them from the simulator's settings.
    app = spec.variant === 'prodo' ? adapter.apps.service.prodo(procurios.clientCredentials(spec.procurios)) : adapter.apps.service.baseline(spec.token);
  } else if (spec.variant === 'baseline') {
    app = adapter.apps.user.baseline(handCheckedCookie, 'x'.repeat(USER_TOKEN_LENGTH));
    cookies = [handSignedCookie()];
  } else {
    const store = memoryStore();
    const sessionStore = memorySessionStore();
    const options = userOptions(spec.as, port, { store, sessionStore, ...(spec.maxLiveSessions ? { maxLiveSessions: spec.maxLiveSessions } : {}) });
    app = adapter.apps.user.prodo(options);
    listener = app.listener;
    if (spec.sessions === undefined) {
      cookies = [await signInOverHttp(origin)];
    } else {
      // Many sessions: signed in through a second flow on the same stores and secret, which is
      // what the app's flow reads; it is closed before anything is measured.
      // (maxLiveSessions stays above SIGN_IN_CONCURRENCY: an evicted client fails its sign-in.)
      const signer = createProdoAuth({ ...options, maxLiveSessions: SMALL_LIVE });
      cookies = new Array(spec.sessions);
      await signInMany(signer.flow, `127.0.0.1:${port}`, spec.sessions, (i, c) => (cookies[i] = c));
      await signer.close();
    }
  }
  listener = app.listener;
  serveMarks(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(() => resolve()));
    await app.close();
  });
  process.send({ type: 'ready', origin, cookies });
}

async function memoryChild(spec) {
  const host = '127.0.0.1:3000';
  const auth = createProdoAuth(userOptions(spec.as, 3000, spec.maxLiveSessions ? { maxLiveSessions: spec.maxLiveSessions } : {}));
  // Warm: modules loaded, the connection pool open, the code paths compiled.
  await signInMany(auth.flow, host, 50, () => undefined);
  const heap = () => {
    for (let i = 0; i < 3; i++) globalThis.gc();
    return process.memoryUsage();
  };
  const before = heap();
  const sample = [];
  const start = performance.now();
  await signInMany(auth.flow, host, spec.sessions, (i, c) => i % 100 === 0 && sample.push(c));
  const ms = performance.now() - start;
  const after = heap();
  // The sessions are really there: a sample of them resumes signed in.
  let signedIn = 0;
  for (const cookie of sample) {
    const r = await auth.flow.handle({ method: 'GET', url: '/', headers: { host, cookie } });
    if (r.kind === 'continue' && r.auth.isAuthenticated) signedIn++;
  }
  await auth.close();
  process.send({ type: 'memory', heap: after.heapUsed - before.heapUsed, rss: after.rss - before.rss, ms, sampled: sample.length, signedIn });
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------
// The parent

function startChild(file, spec, execArgv = []) {
  const proc = fork(file, ['--child', JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], timeout: CHILD_TIMEOUT_MS });
  const waiting = [];
  const early = [];
  let failed;
  proc.on('message', (m) => (waiting.length > 0 ? waiting.shift().resolve(m) : early.push(m)));
  const fail = (error) => {
    failed = error;
    for (const w of waiting.splice(0)) w.reject(error);
  };
  proc.on('error', fail);
  proc.on('exit', (code, signal) => fail(new Error(`the ${spec.kind}/${spec.variant ?? ''} child ended (${signal ?? code}) before answering`)));
  const next = () =>
    early.length > 0 ? Promise.resolve(early.shift()) : failed ? Promise.reject(failed) : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  return {
    next,
    send: (m) => proc.send(m),
    exited: new Promise((resolve) => proc.once('exit', resolve)),
  };
}

/** Completed requests within `ms` (or the first `count`), CONNECTIONS in flight; each must answer 200. */
async function load(pool, path, cookies, ms, count = Infinity) {
  let done = 0;
  let sent = 0;
  let bad;
  const end = performance.now() + ms;
  const worker = async () => {
    while (bad === undefined && sent++ < count && performance.now() < end) {
      const headers = cookies.length === 0 ? {} : { cookie: cookies[(Math.random() * cookies.length) | 0] };
      const { statusCode, body } = await pool.request({ path, method: 'GET', headers });
      await body.dump();
      if (statusCode === 200) done++;
      else bad = statusCode;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  if (bad !== undefined) throw new Error(`GET ${path} answered ${bad}`);
  return done;
}

/** One app child: warm-up, then a measured window; requests/s and the app's CPU µs per request. */
async function measureApp(file, spec, path, { warmEach = false } = {}) {
  const child = startChild(file, spec);
  const ready = await child.next();
  const pool = new Pool(ready.origin, { connections: CONNECTIONS, pipelining: 1 });
  try {
    if (warmEach) {
      // Every session once, in order: each has been resumed before the window.
      let next = 0;
      const worker = async () => {
        while (next < ready.cookies.length) {
          const { statusCode, body } = await pool.request({ path, method: 'GET', headers: { cookie: ready.cookies[next++] } });
          await body.dump();
          if (statusCode !== 200) throw new Error(`GET ${path} answered ${statusCode} while warming`);
        }
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    }
    await load(pool, path, ready.cookies, WARMUP_MAX_MS, WARMUP_REQUESTS);
    child.send('start');
    await child.next();
    const started = performance.now();
    const done = await load(pool, path, ready.cookies, MEASURE_MS);
    const seconds = (performance.now() - started) / 1000;
    child.send('stop');
    const { us } = await child.next();
    return { rps: done / seconds, cpuUs: us / done };
  } finally {
    await pool.destroy();
    await child.exited;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
const met = (ok) => (ok ? 'met' : 'NOT met');

/** Rounds of baseline and prodoAuth children, alternating; prints the table. */
async function compare(file, title, goal, path, specOf, checkRound) {
  const runs = { baseline: [], prodo: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['baseline', 'prodo'] : ['prodo', 'baseline'];
    for (const variant of order) {
      const before = checkRound.before();
      runs[variant].push(await measureApp(file, specOf(variant), path));
      checkRound.after(variant, before);
    }
  }
  const labels = { baseline: title.baseline, prodo: title.prodo };
  console.log(`\n${title.heading}: ${CONNECTIONS} connections, medians of ${ROUNDS} fresh processes per variant, ${MEASURE_MS} ms each`);
  const w = [44, 12, 18];
  console.log(row(['', 'requests/s', 'app CPU µs/request'], w));
  for (const variant of ['baseline', 'prodo']) {
    console.log(row([labels[variant], fmt(median(runs[variant].map((r) => r.rps))), fmt(median(runs[variant].map((r) => r.cpuUs)), 1)], w));
  }
  const rpsRatio = median(runs.prodo.map((r, i) => r.rps / runs.baseline[i].rps));
  const cpuRatios = runs.prodo.map((r, i) => runs.baseline[i].cpuUs / r.cpuUs);
  const cpuRatio = median(cpuRatios);
  console.log(row(['ratio requests/s (prodoAuth / baseline)', fmt(rpsRatio, 3), `goal >= ${goal}: ${met(rpsRatio >= goal)}`], w));
  console.log(row(['ratio CPU-implied (baseline / prodoAuth CPU)', fmt(cpuRatio, 3), `goal >= ${goal}: ${met(cpuRatio >= goal)}`], w));
  console.log(row(['', '', `per round: ${cpuRatios.map((r) => fmt(r, 2)).join(' ')}`], w));
}

async function main(adapter, file) {
  const problems = [];
  const mock = await startMockServer({ vendor: 'procurios' });
  const as = await startAuthServer();
  try {
    console.log(`prodo-auth ${adapter.name} bench (node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs)`);

    if (ONLY.includes('service')) {
      const { clientId, clientSecret, scope } = mock.credentials;
      const settings = { tokenUrl: mock.tokenUrl, clientId, clientSecret, scope, apiUrl: mock.apiUrl };
      // A real token of the simulator, for the baseline to answer: the same bytes on the wire.
      const probe = createTokenClient(procurios.clientCredentials(settings));
      const token = await probe.getAccessToken();
      await probe.close();
      await compare(
        file,
        { heading: `1. service mode, GET /token answering the token`, baseline: 'without prodoAuth (a static token)', prodo: 'app.use(prodoAuth()), getAccessToken()' },
        GOALS.service,
        '/token',
        (variant) => ({ kind: 'service', variant, procurios: settings, token }),
        {
          before: () => mock.stats.tokenRequests,
          // One token request per prodoAuth process (its first request), none while measuring.
          after: (variant, before) => {
            const made = mock.stats.tokenRequests - before;
            if (made !== (variant === 'prodo' ? 1 : 0)) problems.push(`service mode: ${made} token requests in one ${variant} process`);
          },
        },
      );
    }

    if (ONLY.includes('user')) {
      await compare(
        file,
        { heading: '2. user mode, GET /me with a session cookie', baseline: 'a signed cookie checked by hand (HMAC)', prodo: 'app.use(prodoAuth()), isAuthenticated + token' },
        GOALS.user,
        '/me',
        (variant) => ({ kind: 'user', variant, as }),
        {
          before: () => as.tokenRequests(),
          // The sign-in's code exchange, and no refresh.
          after: (variant, before) => {
            const made = as.tokenRequests() - before;
            if (made !== (variant === 'prodo' ? 1 : 0)) problems.push(`user mode: ${made} token requests in one ${variant} process`);
          },
        },
      );
    }

    if (ONLY.includes('memory')) {
      console.log(`\n3. memory: heapUsed after gc, before and after ${fmt(MEMORY_SESSIONS)} sign-ins through core's flow (memory stores)`);
      const w = [34, 10, 10, 14, 12];
      console.log(row(['', 'heap MB', 'RSS MB', 'bytes/session', 'sign-ins/s'], w));
      for (const [label, maxLiveSessions] of [[`default (maxLiveSessions ${fmt(DEFAULT_MAX_LIVE)})`, undefined], [`maxLiveSessions ${fmt(SMALL_LIVE)}`, SMALL_LIVE]]) {
        const child = startChild(file, { kind: 'memory', as, sessions: MEMORY_SESSIONS, maxLiveSessions }, ['--expose-gc']);
        const r = await child.next();
        await child.exited;
        if (r.signedIn !== r.sampled) problems.push(`memory: ${r.sampled - r.signedIn} of ${r.sampled} sampled sessions were not signed in`);
        const mb = r.heap / 2 ** 20;
        console.log(row([label, fmt(mb, 1), fmt(r.rss / 2 ** 20, 1), fmt(r.heap / MEMORY_SESSIONS), fmt(MEMORY_SESSIONS / (r.ms / 1000))], w));
        if (maxLiveSessions === undefined) console.log(row(['', '', '', '', `goal <= ${GOALS.memoryMb} MB: ${met(mb <= GOALS.memoryMb)}`], w));
      }
    }

    if (ONLY.includes('curve')) {
      console.log(
        `\n4. app CPU µs per request as sessions grow: GET /me of a random session, each session used once before; medians of ${CURVE_ROUNDS} fresh processes per cell, ${MEASURE_MS} ms each`,
      );
      // Up to SMALL_LIVE sessions both rows are the same settings (every session live): measured once.
      const rows = [
        [`default (maxLiveSessions ${fmt(DEFAULT_MAX_LIVE)})`, undefined],
        [`maxLiveSessions ${fmt(SMALL_LIVE)}`, SMALL_LIVE],
      ];
      const cells = new Map(rows.map(([label]) => [label, CURVE_SIZES.map(() => [])]));
      for (let round = 0; round < CURVE_ROUNDS; round++) {
        // Each round visits the sizes in another order, so a slow spell of the machine does not
        // land on one size in every round.
        const sizes = CURVE_SIZES.map((_, i) => (i + round) % CURVE_SIZES.length);
        for (const [label, maxLiveSessions] of rows) {
          for (const i of sizes) {
            const sessions = CURVE_SIZES[i];
            if (maxLiveSessions !== undefined && sessions <= maxLiveSessions) continue;
            const before = as.tokenRequests();
            const spec = { kind: 'user', variant: 'prodo', as, sessions, maxLiveSessions };
            cells.get(label)[i].push(await measureApp(file, spec, '/me', { warmEach: true }));
            const made = as.tokenRequests() - before;
            if (made !== sessions) problems.push(`curve: ${made} token requests for ${sessions} sessions (expected one sign-in each)`);
          }
        }
      }
      const w = [34, ...CURVE_SIZES.map(() => 12), 22];
      console.log(row(['sessions ->', ...CURVE_SIZES.map((n) => fmt(n)), `goal: flat (<= ${GOALS.flat}x)`], w));
      for (const [label, maxLiveSessions] of rows) {
        const measured = cells.get(label).map((runs, i) =>
          maxLiveSessions !== undefined && CURVE_SIZES[i] <= maxLiveSessions ? cells.get(rows[0][0])[i] : runs,
        );
        const cpu = measured.map((runs) => median(runs.map((r) => r.cpuUs)));
        const worst = Math.max(...cpu) / cpu[0];
        console.log(row([label, ...cpu.map((c) => fmt(c, 1)), `${fmt(worst, 2)}x: ${met(worst <= GOALS.flat)}`], w));
        console.log(row(['  requests/s', ...measured.map((runs) => fmt(median(runs.map((r) => r.rps)))), ''], w));
      }
    }
  } finally {
    await as.close();
    await mock.close();
  }
  if (problems.length > 0) {
    console.error(`\ncorrectness problems:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  }
}

/**
 * Runs the bench (or, with --child, one of its measured processes).
 * @param adapter - `{ name, file, apps }`: `file` is the bench script's path (it is the child too);
 *   `apps.service.prodo(options)`, `apps.service.baseline(token)`, `apps.user.prodo(options)` and
 *   `apps.user.baseline(check, token)` each return `{ listener, close }`, `listener` a
 *   node:http request listener. Service apps answer `GET /token`, user apps `GET /me` (200 and the
 *   token, 401 when not signed in).
 */
export async function runAdapterBench(adapter) {
  if (process.argv[2] !== '--child') return main(adapter, adapter.file);
  const spec = JSON.parse(process.argv[3]);
  if (spec.kind === 'memory') return memoryChild(spec);
  return appChild(adapter, spec);
}
