/** The Procurios presets against the Procurios simulator and a recording server. */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import {
  createTokenClient,
  procurios,
  PROCURIOS_MEDIA_TYPE,
  ReauthenticationRequiredError,
  type AuthorizationCodeGrant,
  type TokenClient,
} from '../../src/index.js';
import { json, startServer } from '../helpers/token-server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function mock(options: { singleQuotedTokenResponse?: boolean } = {}): Promise<MockServer<'procurios'>> {
  const server = (await startMockServer({ vendor: 'procurios', ...options })) as MockServer<'procurios'>;
  open.push(server);
  return server;
}

function track(c: TokenClient): TokenClient {
  open.push(c);
  return c;
}

const REDIRECT = 'http://127.0.0.1/auth/callback';

/** The browser's part: open the authorization URL and read the code off the redirect. */
async function authorize(url: string): Promise<URL> {
  const res = await request(url);
  await res.body.dump();
  expect(res.statusCode).toBe(302);
  return new URL(String(res.headers.location));
}

function codeClient(server: MockServer<'procurios'>): { client: TokenClient; grant: AuthorizationCodeGrant } {
  const options = procurios.authorizationCode({
    authorizeUrl: server.authorizeUrl!,
    tokenUrl: server.tokenUrl,
    clientId: server.credentials.clientId,
    clientSecret: server.credentials.clientSecret,
    redirectUri: REDIRECT,
    scope: server.credentials.scope,
    apiUrl: server.apiUrl,
  });
  return { client: track(createTokenClient(options)), grant: options.grant as AuthorizationCodeGrant };
}

describe('procurios.clientCredentials', () => {
  it('quirk: client_secret_post, Accept: application/json and space-separated scopes, as documented', async () => {
    const rec = await startServer((_req, res) => json(res, 200, { access_token: 'a', token_type: 'bearer', expires_in: 3600 }));
    open.push(rec);
    const c = track(
      createTokenClient(procurios.clientCredentials({ tokenUrl: `${rec.url}/l/oauth2/token`, clientId: 'abc123', clientSecret: 'dfe456', scope: ['profile', 'groups'] })),
    );
    await c.getAccessToken();
    const [req] = rec.requests;
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.headers.accept).toBe('application/json');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.body).toBe('grant_type=client_credentials&scope=profile+groups&client_id=abc123&client_secret=dfe456');
  });

  it('quirk: API calls carry the vendor media type unless the request sets its own Accept', async () => {
    const server = await mock();
    const { clientId, clientSecret, scope } = server.credentials;
    const c = track(createTokenClient(procurios.clientCredentials({ tokenUrl: server.tokenUrl, clientId, clientSecret, scope, apiUrl: server.apiUrl })));
    const ok = await c.fetch('/l/module_api/object');
    expect(ok.status).toBe(200);
    const own = await c.fetch('/l/module_api/object', { headers: { accept: 'text/plain' } });
    expect(own.status).toBe(406);
    expect(PROCURIOS_MEDIA_TYPE).toBe('application/vnd.procurios.application+json; version=1');
    expect(server.stats.byGrant.client_credentials).toBe(1);
  });

  it('defaults apiUrl to the token endpoint origin', () => {
    const o = procurios.clientCredentials({ tokenUrl: 'https://procurios.com/l/oauth2/token', clientId: 'a', clientSecret: 'b' });
    expect(o.apiUrl).toBe('https://procurios.com');
  });
});

describe('procurios.authorizationCode', () => {
  it('quirk: the authorization URL carries both readings of the doc (response_type and grant_type, redirect_url and redirect_uri)', async () => {
    const server = await mock();
    const { grant } = codeClient(server);
    const url = new URL(grant.createAuthorizationRequest().url);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('grant_type')).toBe('code');
    expect(url.searchParams.get('redirect_url')).toBe(REDIRECT);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(url.searchParams.get('client_id')).toBe(server.credentials.clientId);
  });

  it('quirk: the code exchange uses grant_type=code with the secret in the body', async () => {
    const rec = await startServer((_req, res) => json(res, 200, { access_token: 'only-this' }));
    open.push(rec);
    const options = procurios.authorizationCode({
      authorizeUrl: `${rec.url}/l/oauth2/authorize`,
      tokenUrl: `${rec.url}/l/oauth2/token`,
      clientId: 'abc123',
      clientSecret: 'dfe456',
      redirectUri: REDIRECT,
    });
    const c = track(createTokenClient(options));
    const set = await c.exchangeCode({ code: 'X', codeVerifier: 'v'.repeat(43) });
    const params = Object.fromEntries(new URLSearchParams(rec.requests[0]?.body));
    expect(params).toMatchObject({ grant_type: 'code', client_id: 'abc123', client_secret: 'dfe456', code: 'X' });
    expect(rec.requests[0]?.headers.authorization).toBeUndefined();
    expect(set.tokenType).toBe('Bearer');
    expect(set.expiresAt).toBeUndefined();
  });

  for (const singleQuotedTokenResponse of [false, true]) {
    it(`logs a user in through the simulator's authorize page${singleQuotedTokenResponse ? ", answer in the doc's single-quoted form" : ''}`, async () => {
      const server = await mock({ singleQuotedTokenResponse });
      const { client, grant } = codeClient(server);
      const login = grant.createAuthorizationRequest();
      const back = await authorize(login.url);
      expect(back.searchParams.get('state')).toBe(login.state);
      const set = await client.exchangeCode({ code: back.searchParams.get('code')!, codeVerifier: login.codeVerifier });
      expect(set.refreshToken).toBeUndefined();
      expect((await client.fetch('/l/module_api/object')).status).toBe(200);
      expect(server.stats.byGrant.authorization_code).toBe(1);
    });
  }

  it('quirk: with no expiry and no refresh token, a rejected token sends the user back to log in', async () => {
    const server = await mock();
    const { client, grant } = codeClient(server);
    const login = grant.createAuthorizationRequest();
    const back = await authorize(login.url);
    const set = await client.exchangeCode({ code: back.searchParams.get('code')!, codeVerifier: login.codeVerifier });
    server.revoke(set.accessToken);
    await expect(client.fetch('/l/module_api/object')).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(server.stats.tokenRequests).toBe(1);
  });

  it('a replayed code is refused with invalid_grant', async () => {
    const server = await mock();
    const { client, grant } = codeClient(server);
    const login = grant.createAuthorizationRequest();
    const code = (await authorize(login.url)).searchParams.get('code')!;
    await client.exchangeCode({ code, codeVerifier: login.codeVerifier });
    await expect(client.exchangeCode({ code, codeVerifier: login.codeVerifier })).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
