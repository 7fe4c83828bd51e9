import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bearer, claims, get, postJson, shape, sleep } from './helpers.js';

// The doc's refresh request example: a well-formed JWT this server never issued.
const DOC_REFRESH_REQUEST_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCIgxxxxxxxxxxxxxxxxxxxxxxI0NWQ1MC05NzY5LTQ0NWMtYjI0Zi01NGJkOGVlNWRlYzAifQ.eyJqdGkiOiJiY2JmNGZiNC1lZDA5LTRkMWItOWM2ZS1kYjJhMTNhYTBlZmYiLCJleHAiOjE2NTY2NjU4NDcsIm5iZiI6MCwiaWF0IjoxNjU2NTc5NDQ3LCJpc3MiOiJodHRwczovL2tjLnBldHJvc29mdC5jbG91ZC9hdXRoL3JlYWxtcy9jaWQiLCJhdWQiOiJodHRwczovL2tjLnBldHJvc29mdC5jbG91ZC9hdXRoL3JlYWxtcy9jaWQiLCJzdWIiOiIzNmNiOThlNi04NGZlLTQ3MGYtYjQ1ZS0yNDc1NjJhMzg1NzQiLCJ0eXAiOiJSZWZyZXNoIiwiYXpwIjoib2lkYyIsImF1dGhfdGltZSI6MCwic2Vzc2lvbl9zdGF0ZSI6IjQ3OTZkNDhjLTkxZjktNGQwNy1iODRhLTI4MTJhOWU2MzM2NiIsInJlYWxtX2FjY2VzcyI6eyJyb2xlcyI6WyJvZmZsaW5lX2FjY2VzcyIsImFkbWluIiwidW1hX2F1dGhvcml6YXRpb24iXX0sInJlc291cmNlX2FjY2VzcyI6eyJhY2NvdW50Ijp7InJvbGVzIjpbIm1hbmFnZS1hY2NvdW50IiwibWFuYWdlLWFjY291bnQtbGlua3MiLCJ2aWV3LXByb2ZpbGUiXX19LCJzY29wZSI6IiJ9.b16v_64TUVFEsrCOLjtkp9vYYQrGjbdjjMoqWn67Yos';
// The token in the doc's refresh error example: two parts only.
const DOC_MALFORMED_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCIgOiAc2Vzc2lvbl9zdGF0ZSI6IjQ3OTZkNDhjLTkxZjktNGQwNy1iODRhLTI4MTJhOWU2MzM2NiIsInJlYWxtX2FjY2VzcyI6eyJyb2xlcyI6WyJvZmZsaW5lX2FjY2VzcyIsImFkbWluIiwidW1hX2F1dGhvcml6YXRpb24iXX0sInJlc291cmNlX2FjY2VzcyI6eyJhY2NvdW50Ijp7InJvbGVzIjpbIm1hbmFnZS1hY2NvdW50IiwibWFuYWdlLWFjY291bnQtbGlua3MiLCJ2aWV3LXByb2ZpbGUiXX19LCJzY29wZSI6IiJ9.b16v_64TUVFEsrCOLjtkp9vYYQrGjbdjjMoqWn67Yos';

const envelope = (status: number, message: string) => ({ success: false, data: [], message, http_code: status, errors: [], total: null });

describe('petrosoft', () => {
  let server: MockServer<'petrosoft'>;
  beforeAll(async () => {
    server = await startMockServer({ vendor: 'petrosoft' });
  });
  afterAll(() => server.close());

  // The doc's request example, as written.
  const login = () => postJson(server.tokenUrl, { login: 'APIUser@petrosoftinc.com', password: 'Password_01' });
  const refresh = (token: unknown) => postJson(server.refreshUrl!, { refresh_token: token });

  it('serves the doc paths', () => {
    expect(new URL(server.tokenUrl).pathname).toBe('/v1/auth/token');
    expect(new URL(server.refreshUrl!).pathname).toBe('/v1/auth/refresh_token');
  });

  it("answers the doc's login example with exactly the doc's response fields, in seconds", async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(shape(res.body)).toEqual({
      access_token: 'string',
      expires_in: 'number',
      refresh_expires_in: 'number',
      refresh_token: 'string',
      token_type: 'string',
      'not-before-policy': 'number',
      session_state: 'string',
      scope: 'string',
    });
    expect(res.body).toMatchObject({ expires_in: 86400, refresh_expires_in: 86400, token_type: 'bearer', scope: '' });
    // The doc's table says minutes; its example JWTs say seconds. The JWT agrees with expires_in.
    const access = claims(res.body.access_token);
    expect(access.exp! - access.iat!).toBe(res.body.expires_in);
    expect(access).toMatchObject({ typ: 'Bearer', azp: 'oidc', session_state: res.body.session_state });
    const refreshClaims = claims(res.body.refresh_token);
    expect(refreshClaims.exp! - refreshClaims.iat!).toBe(res.body.refresh_expires_in);
    expect(refreshClaims.typ).toBe('Refresh');
  });

  it('bad credentials: 401 with the doc body', async () => {
    const res = await postJson(server.tokenUrl, { login: 'APIUser@petrosoftinc.com', password: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
  });

  it("other login failures: 500 in the doc's success:false envelope", async () => {
    const missing = await postJson(server.tokenUrl, { login: 'APIUser@petrosoftinc.com' });
    expect(missing.status).toBe(500);
    expect(missing.body).toEqual(
      envelope(500, "Provider App\\Application\\TokenProvider\\CredentialsTokenProvider can't implement operation due restrictions."),
    );
    // The raw JSON has the doc's escaped backslashes.
    expect(missing.text).toContain('Provider App\\\\Application');
    expect(await postJson(server.tokenUrl, '{not json')).toMatchObject({ status: 500, body: envelope(500, 'Syntax error') });
  });

  it("a malformed refresh token: the doc's 500, which echoes the token", async () => {
    const res = await refresh(DOC_MALFORMED_TOKEN);
    expect(res.status).toBe(500);
    expect(res.body).toEqual(envelope(500, `JWT missing parts. Total number of parts: 2 Token: ${DOC_MALFORMED_TOKEN}`));
    expect((await refresh('a.b.c.d')).body.message).toBe('JWT missing parts. Total number of parts: 4 Token: a.b.c.d');
  });

  it("the doc's refresh request example, a token this server never issued: 500 success:false", async () => {
    const res = await refresh(DOC_REFRESH_REQUEST_TOKEN);
    expect(res).toMatchObject({ status: 500, body: envelope(500, 'Invalid refresh token') });
  });

  it('rotates refresh tokens: the answer has the doc shape, and each refresh token works once', async () => {
    const first = await login();
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(Object.keys(second.body).sort()).toEqual(Object.keys(first.body).sort());
    expect(second.body.session_state).toBe(first.body.session_state);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    const replay = await refresh(first.body.refresh_token);
    expect(replay).toMatchObject({ status: 500, body: { success: false, http_code: 500 } });
    expect((await refresh(second.body.refresh_token)).status).toBe(200);
  });

  it('the API accepts only live tokens', async () => {
    const { body } = await login();
    const ok = await get(`${server.apiUrl}/inventory/items`, bearer(body.access_token as string));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ success: true, http_code: 200 });
    expect(await get(`${server.apiUrl}/inventory/items`)).toMatchObject({ status: 401, body: envelope(401, 'Unauthorized') });
    expect((await get(`${server.apiUrl}/inventory/items`, bearer(body.refresh_token as string))).status).toBe(401);
    expect(await get(`${server.url}/nowhere`)).toMatchObject({ status: 404, body: envelope(404, 'Not Found') });
  });
});

describe('petrosoft session expiry', () => {
  it('does not slide: refresh answers count down to the login session end, and the JWT exp stays put', async () => {
    await using server = await startMockServer({ vendor: 'petrosoft', accessTokenTtlSeconds: 2, refreshTokenTtlSeconds: 3 });
    const { login, password } = server.credentials;
    const first = await postJson(server.tokenUrl, { login, password });
    expect(first.body).toMatchObject({ expires_in: 2, refresh_expires_in: 3 });
    const sessionEnd = claims(first.body.refresh_token).exp!;

    await sleep(1100);
    const second = await postJson(server.refreshUrl!, { refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);
    // Like the doc's 86400 then 86373: what is left of the session, not a fresh lifetime.
    expect(second.body.refresh_expires_in).toBeLessThan(3);
    const refreshClaims = claims(second.body.refresh_token);
    expect(refreshClaims.exp).toBe(sessionEnd);
    expect(second.body.refresh_expires_in).toBe(sessionEnd - refreshClaims.iat!);
    const access = claims(second.body.access_token);
    expect(access.exp).toBeLessThanOrEqual(sessionEnd);
    expect(second.body.expires_in).toBe(access.exp! - access.iat!);

    await sleep(2100);
    const late = await postJson(server.refreshUrl!, { refresh_token: second.body.refresh_token });
    expect(late).toMatchObject({ status: 500, body: envelope(500, 'Token is not active') });
    expect((await get(`${server.apiUrl}/items`, bearer(second.body.access_token as string))).status).toBe(401);
  });

  it('an access token never outlives its session', async () => {
    await using server = await startMockServer({ vendor: 'petrosoft', accessTokenTtlSeconds: 600, refreshTokenTtlSeconds: 60 });
    const res = await postJson(server.tokenUrl, server.credentials);
    expect(res.body).toMatchObject({ expires_in: 60, refresh_expires_in: 60 });
  });
});
