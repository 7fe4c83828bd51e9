/** What each grant puts on the wire and how it reads the answer, against real servers on 127.0.0.1. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  clientSecretBasic,
  ConfigError,
  createTokenClient,
  ErrorCode,
  jsonLoginGrant,
  passwordGrant,
  ReauthenticationRequiredError,
  staticTokenGrant,
  type TokenClient,
} from '../src/index.js';
import { fakeJwt, json, startServer, type TestServer } from './helpers/token-server.js';

let server: TestServer;
const clients: TokenClient[] = [];
let issued = 0;

beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 200, { access_token: `at-${++issued}`, token_type: 'bearer', expires_in: 60 }));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.requests.length = 0;
  server.handler = (_req, res) => json(res, 200, { access_token: `at-${++issued}`, token_type: 'bearer', expires_in: 60 });
});
afterAll(() => server.close());

function track(c: TokenClient): TokenClient {
  clients.push(c);
  return c;
}

const decodeBasic = (header: string | undefined): string =>
  Buffer.from((header ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');

describe('client authentication', () => {
  it('client_secret_basic form-encodes id and secret before Base64, with no newline (RFC 6749 2.3.1)', async () => {
    const grant = clientCredentialsGrant({ tokenUrl: `${server.url}/token`, clientId: 'my app', clientSecret: 'p@ss:w+rd/é' });
    await track(createTokenClient({ grant })).getAccessToken();
    const [req] = server.requests;
    expect(req?.headers.authorization).toMatch(/^Basic [A-Za-z0-9+/=]+$/);
    expect(decodeBasic(req?.headers.authorization)).toBe('my+app:p%40ss%3Aw%2Brd%2F%C3%A9');
    expect(req?.params).toEqual({ grant_type: 'client_credentials' });
  });

  it('client_secret_post sends id and secret in the body and no Authorization header', async () => {
    const grant = clientCredentialsGrant({
      tokenUrl: `${server.url}/token`,
      clientId: 'svc',
      clientSecret: 's3cret',
      clientAuth: 'client_secret_post',
      scope: ['read', 'write'],
    });
    await track(createTokenClient({ grant })).getAccessToken();
    const [req] = server.requests;
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.params).toEqual({ grant_type: 'client_credentials', client_id: 'svc', client_secret: 's3cret', scope: 'read write' });
  });

  it('a public client (none) sends only client_id', async () => {
    const grant = passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'public', username: 'u', password: 'p w&d' });
    await track(createTokenClient({ grant })).getAccessToken();
    const [req] = server.requests;
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.body).toBe('grant_type=password&username=u&password=p+w%26d&client_id=public');
  });

  it('accepts a client authentication value', async () => {
    const grant = passwordGrant({
      tokenUrl: `${server.url}/token`,
      clientId: 'ignored-by-value',
      username: 'u',
      password: 'p',
      clientAuth: clientSecretBasic('valued', 'secret'),
    });
    await track(createTokenClient({ grant })).getAccessToken();
    expect(decodeBasic(server.requests[0]?.headers.authorization)).toBe('valued:secret');
  });
});

describe('passwordGrant', () => {
  it('calls a parameter function for every token request (a fresh one-time code)', async () => {
    let n = 0;
    const grant = passwordGrant({
      tokenUrl: `${server.url}/token`,
      clientId: 'app',
      clientSecret: 'cs',
      username: 'u',
      password: 'p',
      extraParams: { twofactor: () => `code-${++n}`, static: 'x' },
    });
    const c = track(createTokenClient({ grant }));
    await c.getAccessToken();
    await c.invalidate();
    server.handler = (_req, res) => json(res, 200, { access_token: `at-${++issued}`, token_type: 'bearer' });
    await c.getAccessToken();
    expect(server.requests.map((r) => r.params.twofactor)).toEqual(['code-1', 'code-2']);
    expect(server.requests[0]?.params.static).toBe('x');
  });

  it('reads token_type in any case and always sends Bearer', async () => {
    server.handler = (_req, res) => json(res, 200, { access_token: 'lower', token_type: 'bearer' });
    const grant = passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'u', password: 'p' });
    const c = track(createTokenClient({ grant }));
    expect(await c.authorizationHeader()).toBe('Bearer lower');
    expect((await c.getTokenSet()).tokenType).toBe('bearer');
  });
});

describe('jsonLoginGrant', () => {
  it('posts JSON credentials under the configured field names and refreshes at refreshUrl', async () => {
    server.handler = (req, res) =>
      json(res, 200, {
        access_token: `json-${req.path}-${++issued}`,
        token_type: 'bearer',
        expires_in: 10,
        refresh_token: `r-${issued}`,
      });
    const grant = jsonLoginGrant({
      tokenUrl: `${server.url}/v1/auth/token`,
      refreshUrl: `${server.url}/v1/auth/refresh_token`,
      username: 'api@example.com',
      password: 'pw',
      usernameField: 'login',
    });
    const c = track(createTokenClient({ grant }));
    const first = await c.getTokenSet();
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ login: 'api@example.com', password: 'pw' });
    await c.invalidate();
    await c.getAccessToken();
    expect(server.requests[1]?.path).toBe('/v1/auth/refresh_token');
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ refresh_token: first.refreshToken });
  });

  it('reads expires_in in minutes when told to', async () => {
    server.handler = (_req, res) => json(res, 200, { access_token: 'm', expires_in: 5 });
    const grant = jsonLoginGrant({ tokenUrl: `${server.url}/login`, username: 'u', password: 'p', expiresInUnit: 'minutes' });
    const set = await track(createTokenClient({ grant })).getTokenSet();
    expect(set.expiresAt! - set.issuedAt).toBe(300_000);
  });

  it('without refreshUrl, logs in again instead of refreshing', async () => {
    server.handler = (_req, res) => json(res, 200, { access_token: `a-${++issued}`, refresh_token: 'unused' });
    const grant = jsonLoginGrant({ tokenUrl: `${server.url}/login`, username: 'u', password: 'p' });
    const c = track(createTokenClient({ grant }));
    await c.getAccessToken();
    await c.invalidate();
    await c.getAccessToken();
    expect(server.requests.map((r) => r.path)).toEqual(['/login', '/login']);
  });
});

describe('staticTokenGrant', () => {
  it('strips a pasted "Bearer " prefix and reads the JWT exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jwt = fakeJwt({ exp });
    const c = track(createTokenClient({ grant: staticTokenGrant({ token: `Bearer ${jwt}` }) }));
    expect(await c.authorizationHeader()).toBe(`Bearer ${jwt}`);
    expect((await c.getTokenSet()).expiresAt).toBe(exp * 1000);
  });

  it('asks for a new token once the API rejected it, or once it expired', async () => {
    const c = track(createTokenClient({ grant: staticTokenGrant({ token: 'pasted' }) }));
    await c.invalidate(await c.getAccessToken());
    await expect(c.getAccessToken()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    const expired = track(createTokenClient({ grant: staticTokenGrant({ token: fakeJwt({ exp: 1 }) }) }));
    await expect(expired.getAccessToken()).rejects.toMatchObject({ code: ErrorCode.REAUTHENTICATION_REQUIRED });
  });

  it('rejects an empty or multi-word token at construction', () => {
    expect(() => staticTokenGrant({ token: 'Bearer ' })).toThrow(ConfigError);
    expect(() => staticTokenGrant({ token: 'two words' })).toThrow(/token/);
  });
});

describe('authorizationCodeGrant.createAuthorizationRequest', () => {
  it('always sends state and an S256 challenge, which extra parameters cannot replace', async () => {
    const { createHash } = await import('node:crypto');
    const { authorizationCodeGrant } = await import('../src/index.js');
    const grant = authorizationCodeGrant({
      authorizeUrl: 'https://id.example.com/authorize?tenant=t1',
      tokenUrl: 'https://id.example.com/token',
      clientId: 'web',
      redirectUri: 'https://app.example.com/cb',
      scope: ['openid', 'profile'],
      authorizeParams: { code_challenge_method: 'plain', state: 'fixed', prompt: 'login' },
    });
    const a = grant.createAuthorizationRequest();
    const b = grant.createAuthorizationRequest();
    const url = new URL(a.url);
    expect(url.searchParams.get('tenant')).toBe('t1');
    expect(url.searchParams.get('prompt')).toBe('login');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('scope')).toBe('openid profile');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toBe(createHash('sha256').update(a.codeVerifier).digest('base64url'));
    expect(url.searchParams.get('state')).toBe(a.state);
    expect(a.state).not.toBe('fixed');
    expect(a.state).not.toBe(b.state);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
  });
});

describe('exchangeCode', () => {
  it('is a ConfigError on a client whose grant is not the authorization code grant', async () => {
    const c = track(createTokenClient({ grant: passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'a', username: 'u', password: 'p' }) }));
    await expect(c.exchangeCode({ code: 'x', codeVerifier: 'y' })).rejects.toBeInstanceOf(ConfigError);
    expect(server.requests).toHaveLength(0);
  });
});
