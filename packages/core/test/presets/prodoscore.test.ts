/** The Prodoscore preset against the Prodoscore simulator and a recording server. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import {
  createTokenClient,
  ErrorCode,
  prodoscore,
  PRODOSCORE_API_URL,
  PRODOSCORE_TOKEN_URL,
  ReauthenticationRequiredError,
  type TokenClient,
} from '../../src/index.js';
import { json, startServer } from '../helpers/token-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  vi.useRealTimers();
});

async function mock(options: Partial<Parameters<typeof startMockServer>[0]> = {}): Promise<MockServer<'prodoscore'>> {
  const server = await startMockServer({ vendor: 'prodoscore', ...options });
  open.push(server);
  return server as MockServer<'prodoscore'>;
}

function login(server: MockServer<'prodoscore'>): TokenClient {
  const client = createTokenClient({
    ...prodoscore({ ...server.credentials, tokenUrl: server.tokenUrl, apiUrl: server.apiUrl }),
    retry: { retries: 0 },
  });
  open.push(client);
  return client;
}

describe('prodoscore preset', () => {
  it('defaults to the documented endpoints', () => {
    const options = prodoscore({ clientId: 'c', username: 'u', password: 'p' });
    expect(options.apiUrl).toBe(PRODOSCORE_API_URL);
    expect(PRODOSCORE_TOKEN_URL).toBe('https://auth.ag.prodoscore.com/realms/ind-prod/protocol/openid-connect/token');
  });

  it('quirk: a public client sends exactly the documented form body, with no Authorization header', async () => {
    const rec = await startServer((_req, res) => json(res, 200, { access_token: 'a', token_type: 'Bearer', expires_in: 36000 }));
    open.push(rec);
    const client = createTokenClient(prodoscore({ clientId: 'CUST-1', username: 'me@x.com', password: 'p&w', tokenUrl: `${rec.url}/t` }));
    open.push(client);
    await client.getAccessToken();
    expect(rec.requests[0]?.headers.authorization).toBeUndefined();
    expect(rec.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(rec.requests[0]?.body))).toEqual({
      grant_type: 'password',
      username: 'me@x.com',
      password: 'p&w',
      client_id: 'CUST-1',
    });
  });

  it('logs in, calls the API, refreshes with the refresh token, and calls again', async () => {
    const server = await mock();
    const client = login(server);
    expect((await client.fetch('/api/scores')).status).toBe(200);
    const first = await client.getTokenSet();
    // expires_in is 36000 s; the JWT exp (whole seconds) may end up to a second earlier and wins.
    expect(first.expiresAt! - first.issuedAt).toBeGreaterThan(36000_000 - 1000);
    expect(first.expiresAt! - first.issuedAt).toBeLessThanOrEqual(36000_000);
    expect(first.refreshExpiresAt! - first.issuedAt).toBeGreaterThan(604800_000 - 1000);
    await client.invalidate();
    expect((await client.fetch('/api/scores')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 1, refresh_token: 1 });
  });

  it('quirk: honours refresh_expires_in: past it, it logs in again instead of sending a dead refresh token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const server = await mock({ accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 120 });
    const client = login(server);
    await client.getAccessToken();
    vi.setSystemTime(Date.now() + 121_000);
    expect((await client.fetch('/api/x')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 2, refresh_token: 0 });
    expect(server.stats.tokenRejections).toBe(0);
  });

  it('falls back to a new login when the refresh token is rejected', async () => {
    const server = await mock();
    const client = login(server);
    const first = await client.getTokenSet();
    server.revoke(first.refreshToken!);
    await client.invalidate();
    expect((await client.fetch('/api/x')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 2, refresh_token: 1 });
  });

  it('a bad password is a typed OAuth error naming invalid_grant, without the password', async () => {
    const server = await mock();
    const client = createTokenClient(
      prodoscore({ ...server.credentials, password: 'wrong-password-42', tokenUrl: server.tokenUrl, apiUrl: server.apiUrl }),
    );
    open.push(client);
    const error = (await client.getAccessToken().catch((e: unknown) => e)) as Error & { code: string; error: string };
    expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_grant', status: 401 });
    expect(String(error.stack)).not.toContain('wrong-password-42');
  });

  it('quirk: a pasted browser token keeps working without its "Bearer " prefix, until the API rejects it', async () => {
    const server = await mock();
    const token = await server.issueAccessToken();
    const client = createTokenClient(prodoscore.browserToken(`Bearer ${token}`, { apiUrl: server.apiUrl }));
    open.push(client);
    const res = await client.fetch('/api/me');
    expect(res.status).toBe(200);
    server.revoke(token);
    await expect(client.fetch('/api/me')).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(server.stats.tokenRequests).toBe(0);
  });
});
