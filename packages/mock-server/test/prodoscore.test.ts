import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bearer, claims, get, postForm, shape, sleep } from './helpers.js';

describe('prodoscore', () => {
  let server: MockServer<'prodoscore'>;
  beforeAll(async () => {
    server = await startMockServer({ vendor: 'prodoscore' });
  });
  afterAll(() => server.close());

  const login = (overrides: Record<string, string> = {}) =>
    postForm(server.tokenUrl, {
      client_id: server.credentials.clientId,
      username: server.credentials.username,
      password: server.credentials.password,
      grant_type: 'password',
      ...overrides,
    });

  it('serves the token endpoint at the doc path', () => {
    expect(new URL(server.tokenUrl).pathname).toBe('/realms/ind-prod/protocol/openid-connect/token');
  });

  it("answers the doc's password request with the doc's response shape", async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // The doc's example: access_token, expires_in, refresh_expires_in, refresh_token, token_type.
    expect(shape(res.body)).toMatchObject({
      access_token: 'string',
      expires_in: 'number',
      refresh_expires_in: 'number',
      refresh_token: 'string',
      token_type: 'string',
    });
    expect(res.body).toMatchObject({ expires_in: 36000, refresh_expires_in: 604800, token_type: 'Bearer' });
    const access = claims(res.body.access_token);
    expect(access.exp! - access.iat!).toBe(36000);
    expect(access).toMatchObject({ typ: 'Bearer', azp: server.credentials.clientId, iss: `${server.url}/realms/ind-prod` });
    const refresh = claims(res.body.refresh_token);
    expect(refresh.exp! - refresh.iat!).toBe(604800);
    expect(refresh.typ).toBe('Refresh');
  });

  it('is a public client: no secret is needed, and the username is case-insensitive like Keycloak', async () => {
    const res = await login({ username: server.credentials.username.toUpperCase() });
    expect(res.status).toBe(200);
  });

  it("answers the doc's refresh request with a new pair, and each refresh token works once", async () => {
    const first = await login();
    const refreshed = await postForm(server.tokenUrl, {
      client_id: server.credentials.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('Bearer');
    expect(refreshed.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(refreshed.body.session_state).toBe(first.body.session_state);

    const replay = await postForm(server.tokenUrl, {
      client_id: server.credentials.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
    });
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_grant', error_description: 'Maximum allowed refresh token reuse exceeded' });
  });

  it('Keycloak errors: wrong password, unknown client, missing client, unsupported grant, missing grant', async () => {
    expect(await login({ password: 'wrong' })).toMatchObject({
      status: 401,
      body: { error: 'invalid_grant', error_description: 'Invalid user credentials' },
    });
    expect(await login({ client_id: 'someone-else' })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: 'Invalid client or Invalid client credentials' },
    });
    expect(await postForm(server.tokenUrl, { username: 'u', password: 'p', grant_type: 'password' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: 'Missing client_id parameter' },
    });
    expect(await login({ grant_type: 'urn:example:unknown' })).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' },
    });
    expect(await postForm(server.tokenUrl, { client_id: server.credentials.clientId })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Missing form parameter: grant_type' },
    });
    expect(await login({ grant_type: 'client_credentials' })).toMatchObject({
      status: 401,
      body: { error: 'unauthorized_client', error_description: 'Public client not allowed to retrieve service account' },
    });
  });

  it('rejects a refresh token it never issued with "Invalid refresh token"', async () => {
    const res = await postForm(server.tokenUrl, {
      client_id: server.credentials.clientId,
      grant_type: 'refresh_token',
      refresh_token: 'eyJhbGciOiJIUzI1NiJ9.e30.forged',
    });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } });
  });

  it('the protected API accepts only a live access token', async () => {
    const { body } = await login();
    const token = body.access_token as string;
    expect((await get(`${server.apiUrl}/users`, bearer(token))).status).toBe(200);
    const missing = await get(`${server.apiUrl}/users`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await get(`${server.apiUrl}/users`, bearer(body.refresh_token as string))).status).toBe(401);
    expect((await get(`${server.apiUrl}/users`, bearer(`${token}x`))).status).toBe(401);
    expect(server.revoke(token)).toBe(true);
    expect((await get(`${server.apiUrl}/users`, bearer(token))).status).toBe(401);
  });

  it('issueAccessToken() gives a live "browser token" for the API', async () => {
    const token = await server.issueAccessToken();
    const res = await get(`${server.apiUrl}/scores`, bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ method: 'GET', path: '/api/scores', client_id: server.credentials.clientId });
  });
});

describe('prodoscore with short lifetimes', () => {
  it('expires_in follows the TTL options, and expired tokens are refused at the API and at refresh', async () => {
    await using server = await startMockServer({ vendor: 'prodoscore', accessTokenTtlSeconds: 1, refreshTokenTtlSeconds: 1 });
    const { clientId, username, password } = server.credentials;
    const res = await postForm(server.tokenUrl, { grant_type: 'password', client_id: clientId, username, password });
    expect(res.body).toMatchObject({ expires_in: 1, refresh_expires_in: 1 });
    await sleep(1100);
    expect((await get(`${server.apiUrl}/x`, bearer(res.body.access_token as string))).status).toBe(401);
    const refresh = await postForm(server.tokenUrl, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: res.body.refresh_token as string,
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'Token is not active' } });
  });

  it('allowRefreshTokenReuse keeps an exchanged refresh token valid', async () => {
    await using server = await startMockServer({ vendor: 'prodoscore', allowRefreshTokenReuse: true });
    const { clientId, username, password } = server.credentials;
    const res = await postForm(server.tokenUrl, { grant_type: 'password', client_id: clientId, username, password });
    const params = { grant_type: 'refresh_token', client_id: clientId, refresh_token: res.body.refresh_token as string };
    expect((await postForm(server.tokenUrl, params)).status).toBe(200);
    expect((await postForm(server.tokenUrl, params)).status).toBe(200);
  });
});
