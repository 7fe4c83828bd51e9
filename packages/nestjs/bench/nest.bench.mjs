#!/usr/bin/env node
// Benchmarks @prodo-auth/nestjs against the built package (`npx tsdown` first), on Nest with the
// Express platform: service mode, a route that calls the API through the client's HttpService
// (`firstValueFrom(this.http.get('/object'))`, the token added by attachProdoAuth's interceptor),
// next to the same app whose HttpService is an axios instance with a static Authorization header
// (the same token, the same API headers, the same keep-alive agents). Goal: ratio >= 0.97.
//
// Measured as packages/express/bench/harness.mjs measures: each variant in a fresh `node` process,
// alternating which goes first, for a few rounds; the figures are medians, the ratios medians of
// the per-round ratios. The load generator and the API (the Procurios simulator) are this parent
// process; the app is the child, so the child's process.cpuUsage() is the app's cost alone, and
// the CPU-implied ratio (baseline CPU per request / prodo-auth CPU per request) is printed beside
// the requests/s one. The goal is reported, never enforced. Exits 1 only on a correctness
// failure: a request that did not answer 200, or a token request while a warm token was measured.
// Loopback only; bounded: every child has a timeout, every window a deadline.
// Environment: BENCH_ROUNDS (default 5), BENCH_MEASURE_MS (default 1000).
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import { arch, cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HttpService } from '@nestjs/axios';
import { ExpressAdapter } from '@nestjs/platform-express';
import axios from 'axios';
import { firstValueFrom } from 'rxjs';
import { Pool } from 'undici';
import { createTokenClient, procurios } from '@prodo-auth/core';
import { startMockServer } from '@prodo-auth/mock-server';
import { getHttpServiceToken, ProdoAuthModule } from '../dist/index.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 1000);
const WARMUP_REQUESTS = 4000;
const WARMUP_MAX_MS = 5000;
const CONNECTIONS = 16;
const CHILD_TIMEOUT_MS = 90_000;
const GOAL = 0.97;
const HTTP = 'bench.http';
const API_PATH = '/object';

// ---------------------------------------------------------------------------------------------
// The child: one Nest app, GET /call answering the API's status through the HttpService

/** The app's module: `prodo` imports ProdoAuthModule; `baseline` provides an HttpService by hand. */
function appModule(spec) {
  class CallController {
    constructor(http) {
      this.http = http;
    }
    async call() {
      const res = await firstValueFrom(this.http.get(API_PATH));
      return String(res.status);
    }
  }
  Controller()(CallController);
  Inject(HTTP)(CallController, undefined, 0);
  Get('call')(CallController.prototype, 'call', Object.getOwnPropertyDescriptor(CallController.prototype, 'call'));
  const options = procurios.clientCredentials(spec.procurios);
  const providers = [];
  const imports = [];
  const agents = [new HttpAgent({ keepAlive: true }), new HttpsAgent({ keepAlive: true })];
  if (spec.variant === 'prodo') {
    imports.push(ProdoAuthModule.forRoot(options));
    providers.push({ provide: HTTP, useExisting: getHttpServiceToken() });
  } else {
    // The same headers on every request, set once: what the interceptor adds, without it.
    const headers = { ...options.apiHeaders, authorization: `Bearer ${spec.token}` };
    const instance = axios.create({ baseURL: options.apiUrl, headers, httpAgent: agents[0], httpsAgent: agents[1] });
    providers.push({ provide: HTTP, useValue: new HttpService(instance) });
  }
  class BenchModule {}
  Module({ imports, providers, controllers: [CallController] })(BenchModule);
  return { BenchModule, agents };
}

async function child(spec) {
  const { BenchModule, agents } = appModule(spec);
  const app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  let cpu;
  process.on('message', async (message) => {
    if (message === 'start') {
      cpu = process.cpuUsage();
      process.send({ type: 'started' });
    } else if (message === 'stop') {
      const { user, system } = process.cpuUsage(cpu);
      process.send({ type: 'cpu', us: user + system });
      await app.close();
      for (const agent of agents) agent.destroy();
      process.disconnect();
    }
  });
  process.send({ type: 'ready', origin });
}

// ---------------------------------------------------------------------------------------------
// The parent

function startChild(spec) {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], timeout: CHILD_TIMEOUT_MS });
  const waiting = [];
  const early = [];
  let failed;
  proc.on('message', (m) => (waiting.length > 0 ? waiting.shift().resolve(m) : early.push(m)));
  const fail = (error) => {
    failed = error;
    for (const w of waiting.splice(0)) w.reject(error);
  };
  proc.on('error', fail);
  proc.on('exit', (code, signal) => fail(new Error(`the ${spec.variant} child ended (${signal ?? code}) before answering`)));
  const next = () =>
    early.length > 0 ? Promise.resolve(early.shift()) : failed ? Promise.reject(failed) : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  return { next, send: (m) => proc.send(m), exited: new Promise((resolve) => proc.once('exit', resolve)) };
}

/** Completed requests within `ms` (or the first `count`), CONNECTIONS in flight; each must answer 200 with the API's 200. */
async function load(pool, ms, count = Infinity) {
  let done = 0;
  let sent = 0;
  let bad;
  const end = performance.now() + ms;
  const worker = async () => {
    while (bad === undefined && sent++ < count && performance.now() < end) {
      const { statusCode, body } = await pool.request({ path: '/call', method: 'GET' });
      const text = await body.text();
      if (statusCode === 200 && text === '200') done++;
      else bad = `${statusCode} ${text.slice(0, 80)}`;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  if (bad !== undefined) throw new Error(`GET /call answered ${bad}`);
  return done;
}

async function measure(spec) {
  const child = startChild(spec);
  const ready = await child.next();
  const pool = new Pool(ready.origin, { connections: CONNECTIONS, pipelining: 1 });
  try {
    await load(pool, WARMUP_MAX_MS, WARMUP_REQUESTS);
    child.send('start');
    await child.next();
    const started = performance.now();
    const done = await load(pool, MEASURE_MS);
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

async function main() {
  const { version } = createRequire(import.meta.url)('@nestjs/core/package.json');
  const mock = await startMockServer({ vendor: 'procurios' });
  const problems = [];
  try {
    console.log(`prodo-auth nest ${version} bench (node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs)`);
    const { clientId, clientSecret, scope } = mock.credentials;
    const settings = { tokenUrl: mock.tokenUrl, clientId, clientSecret, scope, apiUrl: mock.apiUrl };
    // A real token of the simulator, for the baseline's static header: the same bytes on the wire.
    const probe = createTokenClient(procurios.clientCredentials(settings));
    const token = await probe.getAccessToken();
    await probe.close();
    const runs = { baseline: [], prodo: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of round % 2 === 0 ? ['baseline', 'prodo'] : ['prodo', 'baseline']) {
        const before = mock.stats.tokenRequests;
        runs[variant].push(await measure({ variant, procurios: settings, token }));
        // One token request per prodo-auth process (its first call), none while measuring.
        const made = mock.stats.tokenRequests - before;
        if (made !== (variant === 'prodo' ? 1 : 0)) problems.push(`${made} token requests in one ${variant} process`);
      }
    }
    console.log(`\nservice mode, GET /call -> HttpService.get('${API_PATH}'): ${CONNECTIONS} connections, medians of ${ROUNDS} fresh processes per variant, ${MEASURE_MS} ms each`);
    const w = [48, 12, 18];
    console.log(row(['', 'requests/s', 'app CPU µs/request'], w));
    const labels = { baseline: 'HttpService with a static Authorization header', prodo: 'ProdoAuthModule HttpService (interceptor)' };
    for (const variant of ['baseline', 'prodo']) {
      console.log(row([labels[variant], fmt(median(runs[variant].map((r) => r.rps))), fmt(median(runs[variant].map((r) => r.cpuUs)), 1)], w));
    }
    const rpsRatio = median(runs.prodo.map((r, i) => r.rps / runs.baseline[i].rps));
    const cpuRatios = runs.prodo.map((r, i) => runs.baseline[i].cpuUs / r.cpuUs);
    const cpuRatio = median(cpuRatios);
    console.log(row(['ratio requests/s (prodo-auth / static header)', fmt(rpsRatio, 3), `goal >= ${GOAL}: ${met(rpsRatio >= GOAL)}`], w));
    console.log(row(['ratio CPU-implied (static / prodo-auth CPU)', fmt(cpuRatio, 3), `goal >= ${GOAL}: ${met(cpuRatio >= GOAL)}`], w));
    console.log(row(['', '', `per round: ${cpuRatios.map((r) => fmt(r, 2)).join(' ')}`], w));
  } finally {
    await mock.close();
  }
  if (problems.length > 0) {
    console.error(`\ncorrectness problems:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await main();
