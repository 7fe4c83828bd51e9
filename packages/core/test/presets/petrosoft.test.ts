/** The Petrosoft preset against the Petrosoft simulator and a recording server. */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { createTokenClient, ErrorCode, petrosoft, type RefreshErrorEvent, type TokenClient } from '../../src/index.js';
import { json, startServer } from '../helpers/token-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  vi.useRealTimers();
});

async function mock(options: { accessTokenTtlSeconds?: number; refreshTokenTtlSeconds?: number } = {}): Promise<MockServer<'petrosoft'>> {
  const server = (await startMockServer({ vendor: 'petrosoft', ...options })) as MockServer<'petrosoft'>;
  open.push(server);
  return server;
}

function client(server: { url: string }, login = 'APIUser@petrosoftinc.com', password = 'Password_01'): TokenClient {
  const c = createTokenClient({ ...petrosoft({ login, password, baseUrl: server.url }), retry: { retries: 0 } });
  open.push(c);
  return c;
}

describe('petrosoft preset', () => {
  it("quirk: logs in with the doc's JSON body at /v1/auth/token and refreshes at /v1/auth/refresh_token", async () => {
    const rec = await startServer((req, res) =>
      json(res, 200, { access_token: `a-${req.path}`, token_type: 'bearer', expires_in: 60, refresh_token: 'r-1', refresh_expires_in: 120 }),
    );
    open.push(rec);
    const c = client({ url: `${rec.url}/` }, 'APIUser@petrosoftinc.com', 'Password_01');
    await c.getAccessToken();
    await c.invalidate();
    await c.getAccessToken();
    expect(rec.requests.map((r) => r.path)).toEqual(['/v1/auth/token', '/v1/auth/refresh_token']);
    expect(rec.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(rec.requests[0]!.body)).toEqual({ login: 'APIUser@petrosoftinc.com', password: 'Password_01' });
    expect(JSON.parse(rec.requests[1]!.body)).toEqual({ refresh_token: 'r-1' });
  });

  it('quirk: expires_in is read as seconds, the safe reading of a doc that says minutes', async () => {
    // An opaque token, so no JWT exp can mask the unit.
    const rec = await startServer((_req, res) => json(res, 200, { access_token: 'opaque', token_type: 'bearer', expires_in: 90, refresh_expires_in: 180, refresh_token: 'r' }));
    open.push(rec);
    const set = await client(rec).getTokenSet();
    expect(set.expiresAt! - set.issuedAt).toBe(90_000);
    expect(set.refreshExpiresAt! - set.issuedAt).toBe(180_000);
  });

  it('logs in, calls the API and refreshes against the simulator', async () => {
    const server = await mock();
    const c = client(server);
    expect((await c.fetch('/v1/items')).status).toBe(200);
    await c.invalidate();
    expect((await c.fetch('/v1/items')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 1, refresh_token: 1 });
    expect(server.stats.tokenRejections).toBe(0);
  });

  it('quirk: the refresh expiry does not slide: once the login session ends, it logs in again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const server = await mock({ accessTokenTtlSeconds: 40, refreshTokenTtlSeconds: 100 });
    const c = client(server);
    const first = await c.getTokenSet();
    vi.setSystemTime(Date.now() + 41_000);
    const second = await c.getTokenSet(); // a refresh, whose refresh expiry counts down to the session end
    expect(server.stats.byGrant).toMatchObject({ password: 1, refresh_token: 1 });
    expect(second.refreshExpiresAt).toBeLessThanOrEqual(first.refreshExpiresAt! + 1000);
    vi.setSystemTime(Date.now() + 60_000); // past the session end
    expect((await c.fetch('/v1/items')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 2, refresh_token: 1 });
    expect(server.stats.tokenRejections).toBe(0);
  });

  it('quirk: a refresh 500 counts as a spent refresh token: it logs in again and never resends it', async () => {
    const server = await mock();
    const c = client(server);
    const first = await c.getTokenSet();
    server.revoke(first.refreshToken!);
    await c.invalidate();
    expect((await c.fetch('/v1/items')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 2, refresh_token: 1 });
  });

  it('quirk: the 500 that echoes the refresh token is redacted', async () => {
    const echoed = 'eyJhbGciOiJIUzI1NiIsInR5cCIgOiAc2Vzc2lvbl9zdGF0ZSI6IjQ3OTZkNDhjLTkxZjktNGQwNy1iODRhLTI4MTJhOWU2MzM2NiJ9.b16v_64TUVFEsrCOLjtkp9vYYQrGjbdjjMoqWn67Yos';
    const rec = await startServer((req, res) => {
      if (req.path === '/v1/auth/token') json(res, 200, { access_token: 'a', token_type: 'bearer', expires_in: 60, refresh_token: echoed });
      else json(res, 500, { success: false, data: [], message: `JWT missing parts. Total number of parts: 2 Token: ${echoed}`, http_code: 500, errors: [], total: null });
    });
    open.push(rec);
    const c = client(rec);
    const events: RefreshErrorEvent[] = [];
    c.on('refresh_error', (e) => events.push(e));
    await c.getAccessToken();
    await c.invalidate();
    await c.getAccessToken(); // the refresh fails, a new login succeeds
    const error = events[0]?.error as Error & { code: string; bodyExcerpt: string };
    expect(error.code).toBe(ErrorCode.HTTP_STATUS);
    expect(error.message).toContain('JWT missing parts');
    for (const text of [error.message, error.bodyExcerpt, inspect(error), JSON.stringify(error), String(error.stack)]) {
      expect(text).not.toContain(echoed);
      expect(text).not.toContain(echoed.split('.')[0]);
    }
  });

  it('bad credentials are an OAuth invalid_grant error', async () => {
    const server = await mock();
    const error = await client(server, 'APIUser@petrosoftinc.com', 'not-the-password').getAccessToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_grant', status: 401 });
  });
});
