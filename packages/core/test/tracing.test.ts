/**
 * The diagnostics_channel publication of token requests (a TracingChannel) and of tokens served:
 * the fields a listener gets, and never a token, secret or query string among them.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenClient,
  ErrorCode,
  passwordGrant,
  TOKEN_REQUEST_CHANNEL,
  TOKEN_SERVED_CHANNEL,
  type TokenClient,
  type TokenRequestContext,
  type TokenServedMessage,
} from '../src/index.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

const SECRETS = {
  clientSecret: 'client-secret-Qw7eR9tY',
  password: 'user-password-Zx8cV6bN',
  accessToken: 'access-token-Mn5bV4cX3z',
  refreshToken: 'refresh-token-Lk9jH8gF7d',
  query: 'tenant-secret-in-query',
};

let server: TestServer;
const open: TokenClient[] = [];
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 500, {}));
});
afterEach(() => Promise.all(open.splice(0).map((c) => c.close())));
afterAll(() => server?.close());

type Event = [phase: string, context: TokenRequestContext];

/** Subscribes to every phase of the token request channel for the duration of `fn`. */
async function traced(fn: () => Promise<void>): Promise<{ events: Event[]; served: TokenServedMessage[] }> {
  const events: Event[] = [];
  const served: TokenServedMessage[] = [];
  const channel = diagnosticsChannel.tracingChannel<unknown, TokenRequestContext>(TOKEN_REQUEST_CHANNEL);
  const handlers = {
    start: (c: TokenRequestContext) => events.push(['start', { ...c }]),
    end: (c: TokenRequestContext) => events.push(['end', { ...c }]),
    asyncStart: (c: TokenRequestContext) => events.push(['asyncStart', { ...c }]),
    asyncEnd: (c: TokenRequestContext) => events.push(['asyncEnd', c]),
    error: (c: TokenRequestContext) => events.push(['error', { ...c }]),
  };
  const onServed = (m: unknown): void => {
    served.push(m as TokenServedMessage);
  };
  channel.subscribe(handlers);
  diagnosticsChannel.subscribe(TOKEN_SERVED_CHANNEL, onServed);
  try {
    await fn();
  } finally {
    channel.unsubscribe(handlers);
    diagnosticsChannel.unsubscribe(TOKEN_SERVED_CHANNEL, onServed);
  }
  return { events, served };
}

function client(): TokenClient {
  const c = createTokenClient({
    retry: { retries: 0 },
    grant: passwordGrant({
      tokenUrl: `${server.url}/token?tenant=${SECRETS.query}`,
      revocationUrl: `${server.url}/revoke?tenant=${SECRETS.query}`,
      clientId: 'app',
      clientSecret: SECRETS.clientSecret,
      username: 'alice',
      password: SECRETS.password,
    }),
  });
  open.push(c);
  return c;
}

function expectNoSecret(value: unknown): void {
  const shown = `${inspect(value, { depth: 10, showHidden: true })}\n${JSON.stringify(value)}`;
  for (const secret of Object.values(SECRETS)) expect(shown).not.toContain(secret);
}

describe('the token request TracingChannel', () => {
  it('publishes grant, kind, endpoint origin and path, and outcome for a token request, and no secret', async () => {
    server.handler = (_req, res) =>
      json(res, 200, { access_token: SECRETS.accessToken, refresh_token: SECRETS.refreshToken, expires_in: 3600 });
    const c = client();
    const { events } = await traced(async () => {
      await c.getAccessToken();
    });
    expect(events.map(([phase]) => phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const [, context] = events.at(-1)!;
    expect(context).toMatchObject({
      grant: 'password',
      kind: 'obtain',
      origin: server.url,
      path: '/token',
      outcome: 'success',
      errorCode: undefined,
    });
    // The traced function resolves to nothing: a listener never gets the TokenSet.
    expect(context).not.toHaveProperty('result.accessToken');
    for (const [, c] of events) expectNoSecret(c);
  });

  it('publishes the error phase with the error code for a refused request, and the redacted error only', async () => {
    server.handler = (req, res) =>
      req.path === '/token' && req.params['grant_type'] === 'password'
        ? json(res, 200, { access_token: SECRETS.accessToken, refresh_token: SECRETS.refreshToken, expires_in: 3600 })
        : json(res, 400, { error: 'invalid_grant', error_description: `bad refresh token ${SECRETS.refreshToken}` });
    const c = client();
    await c.getAccessToken();
    await c.invalidate();
    server.handler = (_req, res) =>
      json(res, 400, { error: 'invalid_grant', error_description: `bad ${SECRETS.refreshToken} for ${SECRETS.password}` });
    const { events } = await traced(async () => {
      await c.getAccessToken().catch(() => undefined);
    });
    const ends = events.filter(([phase]) => phase === 'asyncEnd').map(([, context]) => context);
    expect(ends.map((e) => [e.kind, e.outcome, e.errorCode, e.path])).toEqual([
      ['refresh', 'error', ErrorCode.OAUTH, '/token'],
      ['obtain', 'error', ErrorCode.OAUTH, '/token'],
    ]);
    expect(events.filter(([phase]) => phase === 'error')).toHaveLength(2);
    for (const [, context] of events) expectNoSecret(context);
  });

  it('publishes a revocation as kind revoke, at the revocation endpoint path', async () => {
    server.handler = (req, res) =>
      req.path === '/token' ? json(res, 200, { access_token: SECRETS.accessToken, refresh_token: SECRETS.refreshToken, expires_in: 3600 }) : json(res, 200, {});
    const c = client();
    await c.getAccessToken();
    const { events } = await traced(async () => {
      await c.revoke();
    });
    const [, context] = events.at(-1)!;
    expect(context).toMatchObject({ grant: 'password', kind: 'revoke', origin: server.url, path: '/revoke', outcome: 'success' });
    expectNoSecret(events);
  });

  it('tells which tokens were served from the cache and which waited for the server', async () => {
    server.handler = (_req, res) => json(res, 200, { access_token: SECRETS.accessToken, expires_in: 3600 });
    const c = client();
    const { served } = await traced(async () => {
      await c.getAccessToken();
      await c.getAccessToken();
      await c.requestHeaders();
      await c.getTokenSet();
    });
    expect(served).toEqual([
      { grant: 'password', source: 'server' },
      { grant: 'password', source: 'cache' },
      { grant: 'password', source: 'cache' },
      { grant: 'password', source: 'cache' },
    ]);
  });

  it('publishes nothing and adds no trace to the grant context without subscribers', async () => {
    let sawTrace: unknown = 'not called';
    const c = createTokenClient({
      grant: {
        type: 'custom',
        cacheKey: 'k',
        secrets: passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'a', username: 'u', password: 'pw-value' }).secrets,
        canObtain: true,
        obtain: (ctx) => {
          sawTrace = ctx.trace;
          return Promise.resolve({ accessToken: 'tok-value-1', tokenType: 'Bearer', issuedAt: Date.now(), raw: {} } as never);
        },
      },
    });
    open.push(c);
    await c.getAccessToken();
    expect(sawTrace).toBeUndefined();
  });
});
