#!/usr/bin/env node
// Runs the demo: `node src/main.mjs` (PORT, default 3000) until Ctrl+C. With --exit-after-check
// it starts on a free port, requests its own pages once (the service call and the profile as an
// anonymous visitor), prints what it saw and exits: 0 when both answered as they should.
/* global fetch, AbortSignal -- Node's own, since Node 18 */
import { startDemo } from './app.mjs';

const CHECK_DEADLINE_MS = 15_000;

/** One request to the running demo, as a browser would make it, with no redirect followed. */
async function get(url) {
  const res = await fetch(url, { headers: { accept: 'text/html' }, redirect: 'manual', signal: AbortSignal.timeout(CHECK_DEADLINE_MS) });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

async function check(url) {
  const service = await get(`${url}/service`);
  const token = /id="token">(#[0-9a-f]{8})</.exec(service.body)?.[1];
  const serviceOk = service.status === 200 && token !== undefined;
  console.log(`GET /service -> ${service.status}, token ${token ?? 'missing'}${serviceOk ? '' : ' (expected 200 and a token fingerprint)'}`);
  const profile = await get(`${url}/profile`);
  const profileOk = profile.status === 302 && profile.location === '/auth/login?returnTo=%2Fprofile';
  console.log(`GET /profile (not signed in) -> ${profile.status} ${profile.location ?? ''}${profileOk ? '' : ' (expected 302 to the login)'}`);
  return serviceOk && profileOk;
}

const checkOnly = process.argv.includes('--exit-after-check');
let demo;
try {
  demo = await startDemo({ port: checkOnly ? 0 : Number(process.env.PORT ?? 3000) });
} catch (error) {
  // A ConfigError names each bad PRODO_AUTH_* variable, never a value.
  console.error(`The demo could not start: ${error.message}`);
  for (const issue of error.issues ?? []) console.error(`  ${issue.path} ${issue.message}`);
  process.exit(1);
}

if (checkOnly) {
  let ok = false;
  try {
    ok = await check(demo.url);
  } finally {
    await demo.close();
  }
  console.log(ok ? 'check passed; stopped' : 'check FAILED; stopped');
  process.exitCode = ok ? 0 : 1;
} else {
  console.log(`prodo-auth Nest demo: open ${demo.url}/ in your browser (Ctrl+C stops it)`);
  const stop = async () => {
    await demo.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
