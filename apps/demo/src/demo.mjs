#!/usr/bin/env node
// A tour of @prodo-auth/core against a local OAuth server: one token request for many callers,
// the warm cache, the background refresh with a rotating refresh token, and client.fetch() with a
// retry after a 401. Everything runs on 127.0.0.1 and the process exits by itself.
// Token values are never printed: `#1a2b3c` is the start of a token's sha256.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { setTimeout as timer } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import { inspect } from 'node:util';
import { bioProdict, createTokenClient, passwordGrant, petrosoft, procurios, prodoscore } from '@prodo-auth/core';
import { startMockServer } from '@prodo-auth/mock-server';

const CLIENT_ID = 'demo-app';
const CLIENT_SECRET = 'demo-client-secret';
const USERNAME = 'ada';
const PASSWORD = 'demo-password-1815';
const ACCESS_TOKEN_SECONDS = 2;
const REFRESH_SKEW_SECONDS = 1;
const CALLERS = 10;
const DEADLINE_MS = 15_000;

const fingerprint = (token) => `#${createHash('sha256').update(token).digest('hex').slice(0, 6)}`;
const say = (line = '') => console.log(line);

/**
 * A small OAuth server: the password and refresh_token grants with client_secret_basic, refresh
 * tokens that work once and rotate, access tokens that live ACCESS_TOKEN_SECONDS, and a
 * protected `GET /api/me` that accepts only live access tokens.
 */
async function startAuthServer() {
  const accessTokens = new Map(); // token -> { user, expiresAt }
  const refreshTokens = new Map(); // token -> user; deleted when spent
  const counts = { password: 0, refresh_token: 0 };
  const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

  const send = (res, status, body, headers = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const issue = (user) => {
    const accessToken = `demo-at-${randomBytes(24).toString('base64url')}`;
    const refreshToken = `demo-rt-${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, { user, expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000 });
    refreshTokens.set(refreshToken, user);
    return { accessToken, refreshToken };
  };

  const token = (params, req, res) => {
    if (req.headers.authorization !== basic) return send(res, 401, { error: 'invalid_client' });
    const grantType = params.get('grant_type');
    let user;
    let spent = '';
    if (grantType === 'password') {
      counts.password++;
      if (params.get('username') !== USERNAME || params.get('password') !== PASSWORD) {
        return send(res, 400, { error: 'invalid_grant', error_description: 'bad username or password' });
      }
      user = USERNAME;
    } else if (grantType === 'refresh_token') {
      counts.refresh_token++;
      const refreshToken = params.get('refresh_token') ?? '';
      user = refreshTokens.get(refreshToken);
      if (user === undefined) return send(res, 400, { error: 'invalid_grant', error_description: 'refresh token spent or unknown' });
      refreshTokens.delete(refreshToken);
      spent = `, refresh token ${fingerprint(refreshToken)} spent`;
    } else {
      return send(res, 400, { error: 'unsupported_grant_type' });
    }
    const issued = issue(user);
    say(
      `   server  POST /token grant_type=${grantType} -> 200${spent}, ` +
        `new access ${fingerprint(issued.accessToken)}, new refresh ${fingerprint(issued.refreshToken)}`,
    );
    send(res, 200, {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      refresh_token: issued.refreshToken,
      scope: 'profile',
    });
  };

  const me = (req, res) => {
    const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const live = bearer === undefined ? undefined : accessTokens.get(bearer);
    const shown = bearer === undefined ? 'no token' : `Bearer ${fingerprint(bearer)}`;
    if (live === undefined || Date.now() >= live.expiresAt) {
      say(`   server  GET /api/me with ${shown} -> 401 invalid_token`);
      return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    say(`   server  GET /api/me with ${shown} -> 200`);
    send(res, 200, { user: live.user, scope: 'profile' });
  };

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      if (req.method === 'POST' && path === '/token') return token(new URLSearchParams(body), req, res);
      if (req.method === 'GET' && path === '/api/me') return me(req, res);
      send(res, 404, { error: 'not_found' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    counts,
    /** Revokes every access token, as an administrator or a security incident would. */
    revokeAccessTokens: () => accessTokens.clear(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main() {
  const server = await startAuthServer();
  const client = createTokenClient({
    grant: passwordGrant({
      tokenUrl: `${server.url}/token`,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      username: USERNAME,
      password: PASSWORD,
      scope: 'profile',
    }),
    apiUrl: server.url,
    refreshSkewSeconds: REFRESH_SKEW_SECONDS,
  });
  const requests = () =>
    `${server.counts.password + server.counts.refresh_token} ` +
    `(${server.counts.password} password, ${server.counts.refresh_token} refresh_token)`;

  try {
    client.on('token_request', (e) => {
      say(`   event   token_request grant=${e.grant} kind=${e.kind} outcome=${e.outcome} (${e.durationMs.toFixed(1)} ms)`);
    });
    client.on('token', (e) => {
      const { tokenSet } = e;
      const ttl = tokenSet.expiresAt === undefined ? 'unknown' : `${((tokenSet.expiresAt - Date.now()) / 1000).toFixed(1)} s`;
      const refresh = tokenSet.refreshToken === undefined ? 'none' : fingerprint(tokenSet.refreshToken);
      say(`   event   token source=${e.source} access ${fingerprint(tokenSet.accessToken)} (expires in ${ttl}), refresh ${refresh}`);
    });

    say('prodo-auth demo');
    say(`local OAuth server ${server.url}: password grant, rotating refresh tokens, access tokens live ${ACCESS_TOKEN_SECONDS} s`);
    say(`client: passwordGrant with client_secret_basic, refreshSkewSeconds: ${REFRESH_SKEW_SECONDS}`);
    say('token values are never printed: #1a2b3c is the start of a token\'s sha256');

    say(`\n1. ${CALLERS} callers ask for a token at once; the cache is empty`);
    const first = await Promise.all(Array.from({ length: CALLERS }, () => client.getAccessToken()));
    const same = first.every((t) => t === first[0]);
    say(`   result  ${same ? `all ${CALLERS} callers got` : 'callers got different tokens, starting with'} ${fingerprint(first[0])}; token requests: ${requests()}`);

    say('\n2. Ask again right away');
    const second = await client.getAccessToken();
    const cached = second === first[0] && server.counts.password + server.counts.refresh_token === 1;
    say(`   result  ${fingerprint(second)} ${cached ? 'served from cache, no token request' : 'NOT from cache'}; token requests: ${requests()}`);

    const { expiresAt } = await client.getTokenSet();
    const windowStart = expiresAt - REFRESH_SKEW_SECONDS * 1000;
    const wait = Math.max(0, windowStart + 200 - Date.now());
    say(`\n3. Wait ${(wait / 1000).toFixed(1)} s, into the refresh window (the last ${REFRESH_SKEW_SECONDS} s of the token's life), and ask again`);
    await sleep(wait);
    const refreshed = once(client, 'token');
    const third = await client.getAccessToken();
    say(`   result  ${fingerprint(third)} returned at once (still valid); a background refresh has started`);
    await refreshed;
    const fourth = await client.getAccessToken();
    say(`   result  the next call gets ${fingerprint(fourth)}; token requests: ${requests()}`);

    say("\n4. client.fetch('/api/me'): the client adds the Bearer header for the API's origin");
    const res = await client.fetch('/api/me');
    say(`   result  HTTP ${res.status} ${JSON.stringify(await res.json())}`);

    say("\n5. The server revokes the token; client.fetch('/api/me') again");
    server.revokeAccessTokens();
    const retried = await client.fetch('/api/me');
    say(`   result  HTTP ${retried.status} ${JSON.stringify(await retried.json())} after one retry with a new token; token requests: ${requests()}`);

    say('\n6. A TokenSet as console.log or a logger would show it');
    say(`   ${inspect(await client.getTokenSet()).replace(/\s+/g, ' ')}`);
  } finally {
    await client.close();
    await server.close();
  }
  await vendorTour();
  say('\nclosed the client and the server; done');
}

/** Options for each vendor preset, pointed at that vendor's simulator. */
const PRESETS = {
  prodoscore: (m) => prodoscore({ ...m.credentials, tokenUrl: m.tokenUrl, apiUrl: m.apiUrl }),
  'bio-prodict': (m) => {
    const { refreshClient, username, password } = m.credentials;
    return bioProdict({ ...refreshClient, username, password, tokenUrl: m.tokenUrl, apiUrl: m.apiUrl });
  },
  procurios: (m) => {
    // The simulator's credentials also describe its authorize page (redirect URLs, user): not options.
    const { clientId, clientSecret, scope } = m.credentials;
    return procurios.clientCredentials({ clientId, clientSecret, scope, tokenUrl: m.tokenUrl, apiUrl: m.apiUrl });
  },
  petrosoft: (m) => petrosoft({ ...m.credentials, baseUrl: m.url }),
};
const API_PATHS = { prodoscore: '/api/me', 'bio-prodict': '/api/me', procurios: '/l/module_api/object', petrosoft: '/v1/items' };

/** Each vendor preset against @prodo-auth/mock-server: log in, call the API, refresh, call again. */
async function vendorTour() {
  say('\n7. The vendor presets against @prodo-auth/mock-server: log in, call the API, drop the token, call again');
  for (const [vendor, preset] of Object.entries(PRESETS)) {
    const mock = await startMockServer({ vendor });
    const client = createTokenClient(preset(mock));
    try {
      const first = await client.fetch(API_PATHS[vendor]);
      await client.invalidate();
      const second = await client.fetch(API_PATHS[vendor]);
      const { byGrant } = mock.stats;
      const grants = Object.entries(byGrant)
        .filter(([, n]) => n > 0)
        .map(([grant, n]) => `${n} ${grant}`)
        .join(', ');
      say(`   ${vendor.padEnd(12)} HTTP ${first.status}, then HTTP ${second.status}; token requests: ${grants}`);
    } finally {
      await client.close();
      await mock.close();
    }
  }
}

// A demo must never hang: give up loudly if something does not answer.
timer(() => {
  console.error(`demo did not finish within ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS).unref();

main().catch((error) => {
  // prodo-auth errors are redacted; print the message, never a raw response.
  console.error(`demo failed: ${error?.name ?? 'Error'}: ${error?.message ?? error}`);
  process.exitCode = 1;
});
