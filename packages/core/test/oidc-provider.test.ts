/**
 * Interoperability with a real, certified authorization server: `oidc-provider` runs on
 * 127.0.0.1 and the grants talk to it over HTTP. Nothing is mocked; the login that a browser
 * would do is scripted through the provider's interaction API.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  createTokenClient,
  OAuthError,
  ReauthenticationRequiredError,
  type AuthorizationCodeGrant,
  type TokenClient,
  type TokenClientOptions,
  type TokenRequestEvent,
  type TokenSet,
} from '../src/index.js';
import {
  ACCOUNT_ID,
  API_SCOPE,
  CLIENT_CREDENTIALS_TTL_SECONDS,
  CLIENTS,
  SHORT_ACCESS_TOKEN_TTL_SECONDS,
  startOidcProvider,
  type OidcTestServer,
} from './helpers/oidc-provider.js';

interface Credentials {
  clientId: string;
  clientSecret: string;
}

let op: OidcTestServer;
const openClients: TokenClient[] = [];

beforeAll(async () => {
  op = await startOidcProvider();
});

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
  expect(op.serverErrors).toEqual([]);
});

afterAll(async () => {
  await op?.close();
});

/** A token client that is closed after the test, with the token requests it reported. */
function trackedClient(options: TokenClientOptions): { client: TokenClient; events: TokenRequestEvent[] } {
  const client = createTokenClient({ timeoutMs: 5000, ...options });
  openClients.push(client);
  const events: TokenRequestEvent[] = [];
  client.on('token_request', (e) => events.push(e));
  return { client, events };
}

/** RFC 6749 section 2.3.1: form-encode, then Base64 `id:secret`. */
function basicAuth({ clientId, clientSecret }: Credentials): string {
  const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

/** A form POST to the provider, outside prodo-auth, as an attacker or a resource server would send it. */
async function postForm(url: string, credentials: Credentials, params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: basicAuth(credentials), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function codeGrant(credentials: Credentials): AuthorizationCodeGrant {
  return authorizationCodeGrant({
    authorizeUrl: op.authorizeUrl,
    tokenUrl: op.tokenUrl,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    redirectUri: op.redirectUri,
    scope: 'openid offline_access',
    // OpenID Connect Core section 11: offline_access is granted only with prompt=consent.
    authorizeParams: { prompt: 'consent' },
  });
}

/** Runs a login for the grant and returns the callback's code, after checking its state and issuer. */
async function loginForCode(grant: AuthorizationCodeGrant): Promise<{ code: string; codeVerifier: string }> {
  const request = grant.createAuthorizationRequest();
  const callback = await op.login(request.url);
  expect(callback.searchParams.get('error')).toBeNull();
  expect(callback.searchParams.get('state')).toBe(request.state);
  expect(callback.searchParams.get('iss')).toBe(op.issuer);
  const code = callback.searchParams.get('code');
  expect(code).toEqual(expect.any(String));
  return { code: code!, codeVerifier: request.codeVerifier };
}

/** A signed-in user: a code-flow client holding the tokens of a fresh login. */
async function signIn(
  credentials: Credentials,
  options: { refreshSkewSeconds?: number } = {},
): Promise<{ client: TokenClient; events: TokenRequestEvent[]; first: TokenSet }> {
  const grant = codeGrant(credentials);
  const { client, events } = trackedClient({ grant, ...options });
  const first = await client.exchangeCode(await loginForCode(grant));
  expect(first.refreshToken).toEqual(expect.any(String));
  return { client, events, first };
}

/** The refresh tokens the provider received from one client, in order, with how each was answered. */
function refreshesReceived(clientId: string): Array<{ refreshToken: string | undefined; status: number; error: string | undefined }> {
  return op
    .tokenRequestsOf(clientId, 'refresh_token')
    .map(({ refreshToken, status, error }) => ({ refreshToken, status, error }));
}

describe('client_credentials', () => {
  it.each([
    ['client_secret_basic', CLIENTS.basic],
    ['client_secret_post', CLIENTS.post],
  ] as const)('gets a token the provider accepts with %s, then serves it from cache', async (method, credentials) => {
    const { client, events } = trackedClient({
      grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, ...credentials, clientAuth: method, scope: API_SCOPE }),
    });

    const before = Date.now();
    const token = await client.getAccessToken();
    expect(await client.getAccessToken()).toBe(token);
    expect(await client.authorizationHeader()).toBe(`Bearer ${token}`);

    // One request reached the provider, authenticated the way the client is registered.
    const received = op.tokenRequestsOf(credentials.clientId);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ grantType: 'client_credentials', status: 200, basicAuth: method === 'client_secret_basic' });
    expect(received[0]!.bodyParams.includes('client_secret')).toBe(method === 'client_secret_post');
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([['obtain', 'success']]);

    // The expiry is the provider's expires_in, counted from when the request was sent.
    const tokenSet = await client.getTokenSet();
    expect(tokenSet.expiresAt! - before).toBeGreaterThanOrEqual(CLIENT_CREDENTIALS_TTL_SECONDS * 1000 - 2000);
    expect(tokenSet.expiresAt! - Date.now()).toBeLessThanOrEqual(CLIENT_CREDENTIALS_TTL_SECONDS * 1000);

    // The provider knows the token: in its store, and active on its introspection endpoint.
    const stored = await op.provider.ClientCredentials.find(token);
    expect(stored).toMatchObject({ clientId: credentials.clientId, scope: API_SCOPE, isExpired: false });
    const introspection = await postForm(op.introspectionUrl, CLIENTS.basic, { token });
    expect(introspection).toMatchObject({
      status: 200,
      body: { active: true, client_id: credentials.clientId, scope: API_SCOPE, token_type: 'Bearer' },
    });
    expect(op.tokenRequestsOf(credentials.clientId)).toHaveLength(1);
  });

  it('makes one token request for many concurrent callers', async () => {
    const { client } = trackedClient({
      grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, ...CLIENTS.basic, scope: API_SCOPE }),
    });
    const before = op.tokenRequestsOf(CLIENTS.basic.clientId).length;
    const tokens = await Promise.all(Array.from({ length: 8 }, () => client.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(op.tokenRequestsOf(CLIENTS.basic.clientId)).toHaveLength(before + 1);
  });

  it('reports a wrong client secret as invalid_client, without echoing the secret', async () => {
    const wrongSecret = 'not-the-registered-secret';
    const { client } = trackedClient({
      grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, clientId: CLIENTS.basic.clientId, clientSecret: wrongSecret }),
    });
    const error = await client.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_client', status: 401, code: 'ERR_PRODO_AUTH_OAUTH' });
    expect(String((error as Error).message)).not.toContain(wrongSecret);
  });
});

describe('authorization_code with PKCE', () => {
  it('puts state and an S256 challenge of the verifier on the authorization URL, and the provider gets them', async () => {
    const grant = codeGrant(CLIENTS.web);
    const request = grant.createAuthorizationRequest();
    const query = new URL(request.url).searchParams;

    // RFC 7636: a 43-128 character verifier of unreserved characters, and BASE64URL(SHA256(verifier)).
    expect(request.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    const challenge = createHash('sha256').update(request.codeVerifier).digest('base64url');
    expect(Object.fromEntries(query)).toEqual({
      response_type: 'code',
      client_id: CLIENTS.web.clientId,
      redirect_uri: op.redirectUri,
      scope: 'openid offline_access',
      prompt: 'consent',
      state: request.state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(request.state.length).toBeGreaterThanOrEqual(16);
    expect(grant.createAuthorizationRequest().state).not.toBe(request.state);

    const callback = await op.login(request.url);
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(op.interactions.at(-1)).toMatchObject({ code_challenge: challenge, code_challenge_method: 'S256', state: request.state });
  });

  it('signs in without a browser and exchanges the code for tokens the provider honours', async () => {
    const grant = codeGrant(CLIENTS.web);
    const { client, events } = trackedClient({ grant });
    const { code, codeVerifier } = await loginForCode(grant);

    const tokens = await client.exchangeCode({ code, codeVerifier });
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.raw['id_token']).toEqual(expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/));
    expect(tokens.scope?.split(' ').sort()).toEqual(['offline_access', 'openid']);

    // The exchange: Basic client auth, the verifier and redirect URI in the body, no secret there.
    const exchange = op.tokenRequestsOf(CLIENTS.web.clientId, 'authorization_code').at(-1);
    expect(exchange).toMatchObject({ status: 200, basicAuth: true });
    expect(exchange!.bodyParams).toEqual(['code', 'code_verifier', 'grant_type', 'redirect_uri']);
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([['exchange', 'success']]);

    // The tokens are cached, and the access token is alice's at the provider.
    const requests = op.tokenRequests.length;
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
    expect(await op.provider.AccessToken.find(tokens.accessToken)).toMatchObject({
      accountId: ACCOUNT_ID,
      clientId: CLIENTS.web.clientId,
      isExpired: false,
    });
    const userinfo = await client.fetch(op.userinfoUrl);
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toEqual({ sub: ACCOUNT_ID });
    // Checked last, so that even a background request would have been recorded by now.
    expect(op.tokenRequests).toHaveLength(requests);
    expect(events).toHaveLength(1);
  });

  it('is refused with invalid_grant when the code_verifier does not match, and the code is sent once', async () => {
    const grant = codeGrant(CLIENTS.web);
    const { client, events } = trackedClient({ grant });
    const { code } = await loginForCode(grant);
    const exchangesBefore = op.tokenRequestsOf(CLIENTS.web.clientId, 'authorization_code').length;

    // A well-formed verifier, just not the one the challenge was made from.
    const wrongVerifier = grant.createAuthorizationRequest().codeVerifier;
    const error = await client.exchangeCode({ code, codeVerifier: wrongVerifier }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_grant', code: 'ERR_PRODO_AUTH_OAUTH', status: 400 });
    expect(String((error as Error).message)).not.toContain(code);

    expect(op.tokenRequestsOf(CLIENTS.web.clientId, 'authorization_code')).toHaveLength(exchangesBefore + 1);
    expect(events.map((e) => [e.kind, e.outcome, e.errorCode])).toEqual([['exchange', 'error', 'ERR_PRODO_AUTH_OAUTH']]);
    // Nothing was cached, and without a user the grant cannot get a token by itself.
    await expect(client.getAccessToken()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
  });
});

describe('refresh_token with rotation', () => {
  it('refreshes with the refresh token, takes the rotated one and sends only the newest', async () => {
    // No early refresh window: each refresh below happens exactly when the test causes it.
    const { client, events, first } = await signIn(CLIENTS.rotating, { refreshSkewSeconds: 0 });
    expect(first.expiresAt! - first.issuedAt).toBe(SHORT_ACCESS_TOKEN_TTL_SECONDS * 1000);

    // 1. The API rejected the access token: many callers, one refresh.
    await client.invalidate(first.accessToken);
    const afterInvalidate = await Promise.all(Array.from({ length: 5 }, () => client.getTokenSet()));
    const second = afterInvalidate[0]!;
    expect(afterInvalidate.every((t) => t === second)).toBe(true);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toEqual(expect.any(String));
    expect(second.refreshToken).not.toBe(first.refreshToken);

    // 2. The access token expires (the provider gave it a short life): the next caller refreshes
    //    with the rotated refresh token.
    await sleep(Math.max(0, second.expiresAt! - Date.now()) + 50);
    const third = await client.getTokenSet();
    expect(third.accessToken).not.toBe(second.accessToken);
    expect(third.refreshToken).toEqual(expect.any(String));
    expect([first.refreshToken, second.refreshToken]).not.toContain(third.refreshToken);

    // The provider received each refresh token once, the newest each time, and accepted both.
    expect(refreshesReceived(CLIENTS.rotating.clientId)).toEqual([
      { refreshToken: first.refreshToken, status: 200, error: undefined },
      { refreshToken: second.refreshToken, status: 200, error: undefined },
    ]);
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([
      ['exchange', 'success'],
      ['refresh', 'success'],
      ['refresh', 'success'],
    ]);
    expect(op.tokenRequestsOf(CLIENTS.rotating.clientId).every((r) => r.basicAuth)).toBe(true);

    // The provider's view: the spent ones are consumed, the newest is live.
    expect((await op.provider.RefreshToken.find(first.refreshToken!))?.consumed).toEqual(expect.any(Number));
    expect((await op.provider.RefreshToken.find(second.refreshToken!))?.consumed).toEqual(expect.any(Number));
    const live = await op.provider.RefreshToken.find(third.refreshToken!);
    expect(live?.isExpired).toBe(false);
    expect(live?.consumed).toBeUndefined();
  });

  it('the provider refuses a replayed old refresh token; the client then asks for a new login', async () => {
    const { client, first } = await signIn(CLIENTS.web);
    await client.invalidate();
    const second = await client.getTokenSet();
    expect(second.refreshToken).not.toBe(first.refreshToken);

    // Replaying the rotated-out refresh token by hand: refused, and (reuse detection) the
    // provider revokes the whole grant, the client's current refresh token included.
    const replay = await postForm(op.tokenUrl, CLIENTS.web, { grant_type: 'refresh_token', refresh_token: first.refreshToken! });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // The client's next refresh is refused too; an authorization code grant cannot recover alone.
    await client.invalidate();
    const error = await client.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    expect((error as Error).cause).toBeInstanceOf(OAuthError);
    expect((error as Error).cause).toMatchObject({ error: 'invalid_grant' });

    // A refused refresh token is not tried again.
    await expect(client.getAccessToken()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(refreshesReceived(CLIENTS.web.clientId).slice(-3)).toEqual([
      { refreshToken: first.refreshToken, status: 200, error: undefined }, // the client
      { refreshToken: first.refreshToken, status: 400, error: 'invalid_grant' }, // the replay by hand
      { refreshToken: second.refreshToken, status: 400, error: 'invalid_grant' }, // the client, grant revoked
    ]);
  });

  it('keeps refreshing when the provider re-issues the same refresh token instead of rotating it', async () => {
    // oidc-provider's default for confidential clients: the refresh token is returned unchanged
    // until 70% of its life has passed. RFC 6749 section 6 allows it; the token stays valid, so
    // sending it again is no replay. (The token client used to count it as spent after the first
    // refresh and demand a new login on the second.)
    const { client, events, first } = await signIn(CLIENTS.steady);

    await client.invalidate();
    const second = await client.getTokenSet();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toBe(first.refreshToken);

    await client.invalidate();
    const third = await client.getTokenSet();
    expect(third.accessToken).not.toBe(second.accessToken);
    expect(third.refreshToken).toBe(first.refreshToken);

    expect(refreshesReceived(CLIENTS.steady.clientId)).toEqual([
      { refreshToken: first.refreshToken, status: 200, error: undefined },
      { refreshToken: first.refreshToken, status: 200, error: undefined },
    ]);
    expect(events.map((e) => e.kind)).toEqual(['exchange', 'refresh', 'refresh']);
  });
});
