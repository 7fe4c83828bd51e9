/** The Bio-Prodict preset against the Bio-Prodict simulator and a recording server. */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import {
  bioProdict,
  createTokenClient,
  ReauthenticationRequiredError,
  type BioProdictOptions,
  type RefreshErrorEvent,
  type TokenClient,
} from '../../src/index.js';
import { json, startServer, type TestServer } from '../helpers/token-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function mock(): Promise<MockServer<'bio-prodict'>> {
  const server = (await startMockServer({ vendor: 'bio-prodict' })) as MockServer<'bio-prodict'>;
  open.push(server);
  return server;
}

function client(options: BioProdictOptions): TokenClient {
  const c = createTokenClient({ ...bioProdict(options), retry: { retries: 0 } });
  open.push(c);
  return c;
}

async function recorder(body: Record<string, unknown>): Promise<TestServer> {
  const rec = await startServer((_req, res) => json(res, 200, body));
  open.push(rec);
  return rec;
}

describe('bioProdict preset', () => {
  it('quirk: Basic header of the raw id:secret AND id and secret in the login body', async () => {
    const rec = await recorder({ access_token: 'a', token_type: 'bearer', expires_in: 43199, refresh_token: 'r1' });
    const c = client({ clientId: 'my client', clientSecret: 's3:c+r/t', username: 'u@x', password: 'p&=w', tokenUrl: `${rec.url}/oauth/oauth/token` });
    await c.getAccessToken();
    const [login] = rec.requests;
    // The doc's "{client_id}:{client_secret}", Base64, no form encoding, no newline.
    expect(login?.headers.authorization).toBe(`Basic ${Buffer.from('my client:s3:c+r/t').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(login?.body))).toEqual({
      grant_type: 'password',
      username: 'u@x',
      password: 'p&=w',
      client_id: 'my client',
      client_secret: 's3:c+r/t',
    });
    expect(login?.body).toContain('password=p%26%3Dw'); // "special characters should be URL encoded"
  });

  it('quirk: the refresh request carries the Basic header and no secret in the body', async () => {
    const rec = await recorder({ access_token: 'a', token_type: 'bearer', expires_in: 43199, refresh_token: 'r1' });
    const c = client({ clientId: 'cid', clientSecret: 'csecret', username: 'u', password: 'p', tokenUrl: `${rec.url}/t` });
    await c.getAccessToken();
    await c.invalidate();
    await c.getAccessToken();
    const refresh = rec.requests[1];
    expect(refresh?.headers.authorization).toBe(`Basic ${Buffer.from('cid:csecret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(refresh?.body))).toEqual({ grant_type: 'refresh_token', refresh_token: 'r1' });
  });

  it('logs in against the simulator, reads the lower-case bearer, and calls the API', async () => {
    const server = await mock();
    const { clientId, clientSecret, username, password } = server.credentials;
    const c = client({ clientId, clientSecret, username, password, tokenUrl: server.tokenUrl, apiUrl: server.apiUrl });
    const set = await c.getTokenSet();
    expect(set.tokenType).toBe('bearer');
    expect(await c.authorizationHeader()).toMatch(/^Bearer /);
    expect(set.raw).toMatchObject({ fullname: server.credentials.fullname, scope: 'read write' });
    expect((await c.fetch('/api/x')).status).toBe(200);
  });

  it('quirk: a client without refresh tokens logs in again when the token is gone', async () => {
    const server = await mock();
    const { clientId, clientSecret, username, password } = server.credentials;
    const c = client({ clientId, clientSecret, username, password, tokenUrl: server.tokenUrl, apiUrl: server.apiUrl });
    expect((await c.getTokenSet()).refreshToken).toBeUndefined();
    await c.invalidate();
    expect((await c.fetch('/api/x')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 2, refresh_token: 0 });
  });

  it('uses and rotates refresh tokens for a client that gets them', async () => {
    const server = await mock();
    const { refreshClient, username, password } = server.credentials;
    const c = client({ ...refreshClient, username, password, tokenUrl: server.tokenUrl, apiUrl: server.apiUrl });
    const first = await c.getTokenSet();
    await c.invalidate();
    const second = await c.getTokenSet();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await c.invalidate();
    expect((await c.fetch('/api/x')).status).toBe(200);
    expect(server.stats.byGrant).toMatchObject({ password: 1, refresh_token: 2 });
    expect(server.stats.tokenRejections).toBe(0);
  });

  it('quirk: a two-factor code given as a string is used once, never replayed', async () => {
    const server = await mock();
    const { clientId, clientSecret, twoFactorUser } = server.credentials;
    const c = client({
      clientId,
      clientSecret,
      username: twoFactorUser.username,
      password: twoFactorUser.password,
      twoFactor: server.nextTwoFactorCode(),
      tokenUrl: server.tokenUrl,
      apiUrl: server.apiUrl,
    });
    await c.getAccessToken();
    await c.invalidate();
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    expect((error as Error).message).toMatch(/twoFactor as a function/);
    expect(server.stats.byGrant.password).toBe(1);
  });

  it('quirk: a two-factor function supplies a fresh code for every silent re-login', async () => {
    const server = await mock();
    const { clientId, clientSecret, twoFactorUser } = server.credentials;
    const c = client({
      clientId,
      clientSecret,
      username: twoFactorUser.username,
      password: twoFactorUser.password,
      twoFactor: () => server.nextTwoFactorCode(),
      tokenUrl: server.tokenUrl,
      apiUrl: server.apiUrl,
    });
    for (let i = 0; i < 3; i++) {
      await c.getAccessToken();
      await c.invalidate();
    }
    expect(server.stats.byGrant.password).toBe(3);
    expect(server.stats.tokenRejections).toBe(0);
  });

  it('quirk: the Spring error that echoes a refresh token is redacted', async () => {
    const server = await mock();
    const { refreshClient, twoFactorUser } = server.credentials;
    const c = client({
      ...refreshClient,
      username: twoFactorUser.username,
      password: twoFactorUser.password,
      twoFactor: server.nextTwoFactorCode(),
      tokenUrl: server.tokenUrl,
      apiUrl: server.apiUrl,
    });
    const events: RefreshErrorEvent[] = [];
    c.on('refresh_error', (e) => events.push(e));
    const set = await c.getTokenSet();
    server.revoke(set.refreshToken!);
    await c.invalidate();
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    const refreshFailure = events[0]?.error as Error & { error?: string; errorDescription?: string };
    expect(refreshFailure.error).toBe('invalid_grant');
    expect(refreshFailure.errorDescription).toMatch(/^Invalid refresh token: \[REDACTED\]/);
    for (const text of [inspect(error, { depth: 5 }), inspect(refreshFailure), JSON.stringify(refreshFailure)]) {
      expect(text).not.toContain(set.refreshToken);
      expect(text).not.toContain(set.accessToken);
    }
  });
});
