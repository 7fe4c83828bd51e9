/**
 * RFC 7009 revocation through `client.revoke()`: against oidc-provider (the revoked refresh token
 * no longer works at the server), and against a small server for the failure rules (reported,
 * sent once, and the dead tokens dropped whatever the answer).
 */
import { describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  createTokenClient,
  ErrorCode,
  memoryStore,
  OAuthError,
  passwordGrant,
  ReauthenticationRequiredError,
  TokenEndpointError,
  Transport,
  type AuthorizationCodeGrant,
  type TokenClient,
  type TokenClientOptions,
  type TokenRequestEvent,
} from '../src/index.js';
import { API_SCOPE, CLIENTS } from './helpers/oidc-provider.js';
import { type StandardsTestServer, useStandardsServers } from './helpers/oidc-provider-standards.js';
import { json, type TestServer } from './helpers/token-server.js';

let op: StandardsTestServer;
let server: TestServer;
const open: TokenClient[] = [];

useStandardsServers(open, (started) => ({ op, server } = started));

function tracked(options: TokenClientOptions): { client: TokenClient; events: TokenRequestEvent[] } {
  const client = createTokenClient({ timeoutMs: 5000, ...options });
  open.push(client);
  const events: TokenRequestEvent[] = [];
  client.on('token_request', (e) => events.push(e));
  return { client, events };
}

function codeGrant(extra: { revocationUrl?: string; clientSecret?: string } = {}): AuthorizationCodeGrant {
  return authorizationCodeGrant({
    authorizeUrl: op.authorizeUrl,
    tokenUrl: op.tokenUrl,
    clientId: CLIENTS.web.clientId,
    clientSecret: CLIENTS.web.clientSecret,
    redirectUri: op.redirectUri,
    scope: 'openid offline_access',
    authorizeParams: { prompt: 'consent' },
    ...extra,
  });
}

/** A signed-in user's client, holding a refresh token issued by the provider. */
async function signIn(grant: AuthorizationCodeGrant, options: Partial<TokenClientOptions> = {}) {
  const tracked_ = tracked({ grant, ...options });
  const request = grant.createAuthorizationRequest();
  const callback = await op.login(request.url);
  const tokens = await tracked_.client.exchangeCode({ code: callback.searchParams.get('code')!, codeVerifier: request.codeVerifier });
  expect(tokens.refreshToken).toEqual(expect.any(String));
  return { ...tracked_, tokens };
}

/** The provider's own verdict on a refresh token: a refresh request outside prodo-auth. */
async function refreshAtServer(refreshToken: string): Promise<{ status: number; error: unknown }> {
  const res = await fetch(op.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENTS.web.clientId}:${CLIENTS.web.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, error: ((await res.json()) as { error?: unknown }).error };
}

describe('client.revoke() against oidc-provider', () => {
  it('revokes the refresh token at the server, which then refuses it, and drops it from the store', async () => {
    const store = memoryStore();
    const { client, tokens, events } = await signIn(codeGrant({ revocationUrl: op.revocationUrl }), { store });

    await expect(client.revoke()).resolves.toEqual({ revoked: ['refresh_token'], endpointKnown: true });

    expect(await refreshAtServer(tokens.refreshToken!)).toEqual({ status: 400, error: 'invalid_grant' });
    // Nothing left to use: the store entry is gone, and the client asks for a new login.
    expect(await store.get(`prodo-auth:authorization_code:${codeGrant().cacheKey}`)).toBeUndefined();
    await expect(client.getAccessToken()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([
      ['exchange', 'success'],
      ['revoke', 'success'],
    ]);
  });

  it('revokes the access token too when asked: the provider then reports it inactive', async () => {
    const { client, tokens } = await signIn(codeGrant({ revocationUrl: op.revocationUrl }));
    await expect(client.revoke({ accessToken: true })).resolves.toEqual({
      revoked: ['refresh_token', 'access_token'],
      endpointKnown: true,
    });
    expect(await op.provider.AccessToken.find(tokens.accessToken)).toBeUndefined();
  });

  it('finds the revocation endpoint by discovery when only the issuer is set', async () => {
    const grant = authorizationCodeGrant({
      issuer: op.issuer,
      clientId: CLIENTS.web.clientId,
      clientSecret: CLIENTS.web.clientSecret,
      redirectUri: op.redirectUri,
      scope: 'openid offline_access',
      authorizeParams: { prompt: 'consent' },
    });
    const { client } = tracked({ grant });
    const transport = new Transport({ timeoutMs: 5000 });
    const request = await grant.resolveAuthorizationRequest!({ transport }).finally(() => transport.close());
    const callback = await op.login(request.url);
    const tokens = await client.exchangeCode({ code: callback.searchParams.get('code')!, codeVerifier: request.codeVerifier });
    await expect(client.revoke()).resolves.toEqual({ revoked: ['refresh_token'], endpointKnown: true });
    expect(await refreshAtServer(tokens.refreshToken!)).toMatchObject({ error: 'invalid_grant' });
  });

  it('reports a revocation the server refuses (invalid_client), and still never uses the dead tokens', async () => {
    const grant = codeGrant({ revocationUrl: op.revocationUrl });
    const { client, tokens } = await signIn(grant);
    // The same user's tokens, held by a client whose credentials the server refuses.
    const wrong = tracked({ grant: codeGrant({ revocationUrl: op.revocationUrl, clientSecret: 'not-the-secret' }) }).client;
    await wrong.setTokenSet(tokens);
    const error = await wrong.revoke().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_client' });
    expect(String(error)).not.toContain(tokens.refreshToken!);
    await expect(wrong.getAccessToken()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    // Not revoked: the original client's refresh token still works at the server.
    await client.invalidate();
    await expect(client.getAccessToken()).resolves.toEqual(expect.any(String));
  });

  it('a client credentials client revokes its access token, then obtains a new one', async () => {
    const { client } = tracked({
      grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, revocationUrl: op.revocationUrl, ...CLIENTS.basic, scope: API_SCOPE }),
    });
    const first = await client.getAccessToken();
    await expect(client.revoke({ accessToken: true })).resolves.toEqual({ revoked: ['access_token'], endpointKnown: true });
    expect(await op.provider.ClientCredentials.find(first)).toBeUndefined();
    const second = await client.getAccessToken();
    expect(second).not.toBe(first);
  });
});

describe('client.revoke() failure rules', () => {
  const grantAt = (): ReturnType<typeof passwordGrant> =>
    passwordGrant({
      tokenUrl: `${server.url}/token`,
      revocationUrl: `${server.url}/revoke`,
      clientId: 'app',
      clientSecret: 'app-secret-value',
      username: 'u',
      password: 'p4ssw0rd-value',
    });

  it('sends a revocation that got a 503 once (never blindly again), reports it, and drops the tokens', async () => {
    server.requests.length = 0;
    server.handler = (req, res) => {
      if (req.path === '/token') json(res, 200, { access_token: 'at-123456', refresh_token: 'rt-abcdefg', expires_in: 3600 });
      else json(res, 503, { error: 'temporarily_unavailable' });
    };
    const { client } = tracked({ grant: grantAt(), retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 } });
    await client.getAccessToken();
    const error = await client.revoke().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 503 });
    expect(server.requestsTo('/revoke')).toHaveLength(1);
    expect(server.requestsTo('/revoke')[0]!.params).toMatchObject({ token: 'rt-abcdefg', token_type_hint: 'refresh_token' });
    // The dead refresh token is never presented: the client logs in with its password instead.
    await client.getAccessToken();
    expect(server.requestsTo('/token').map((r) => r.params['grant_type'])).toEqual(['password', 'password']);
  });

  it('resolves endpointKnown: false and sends nothing when the grant has no revocation endpoint', async () => {
    server.requests.length = 0;
    server.handler = (_req, res) => json(res, 200, { access_token: 'at-123456', refresh_token: 'rt-abcdefg', expires_in: 3600 });
    const { client } = tracked({
      grant: passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'u', password: 'p4ssw0rd-value' }),
    });
    await client.getAccessToken();
    await expect(client.revoke()).resolves.toEqual({ revoked: [], endpointKnown: false });
    expect(server.requests.map((r) => r.path)).toEqual(['/token']);
  });
});
