import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { basic, bearer, claims, get, postForm, shape, sleep } from './helpers.js';

describe('bio-prodict', () => {
  let server: MockServer<'bio-prodict'>;
  let c: MockServer<'bio-prodict'>['credentials'];
  beforeAll(async () => {
    server = await startMockServer({ vendor: 'bio-prodict' });
    c = server.credentials;
  });
  afterAll(() => server.close());

  /** The doc's token request: Basic client auth and every listed body parameter. */
  const login = (
    client: { clientId: string; clientSecret: string } = c,
    user: { username: string; password: string } = c,
    extra: Record<string, string> = {},
  ) =>
    postForm(
      server.tokenUrl,
      {
        grant_type: 'password',
        username: user.username,
        password: user.password,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        ...extra,
      },
      basic(client.clientId, client.clientSecret),
    );

  const refresh = (client: { clientId: string; clientSecret: string }, token: string | undefined) =>
    postForm(
      server.tokenUrl,
      { grant_type: 'refresh_token', ...(token === undefined ? {} : { refresh_token: token }) },
      basic(client.clientId, client.clientSecret),
    );

  it('serves the token endpoint at the doc path', () => {
    expect(new URL(server.tokenUrl).pathname).toBe('/oauth/oauth/token');
  });

  it("answers the doc's request with exactly the doc's response fields, and no refresh token for the default client", async () => {
    const res = await login();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    // The doc's "Token Request Response", field for field; userid is a number there ({userid}, unquoted).
    expect(shape(res.body)).toEqual({
      access_token: 'string',
      expires_in: 'number',
      fullname: 'string',
      jti: 'string',
      scope: 'string',
      token_type: 'string',
      userid: 'number',
      username: 'string',
    });
    expect(res.body).toMatchObject({
      expires_in: 43199,
      scope: 'read write',
      token_type: 'bearer',
      fullname: c.fullname,
      userid: c.userid,
      username: c.username,
    });
    expect(claims(res.body.access_token).jti).toBe(res.body.jti);
  });

  it('the password must be form-encoded, as the doc warns about special characters', async () => {
    // The default password contains '@', '&' and '='. Sent unencoded, the '&' splits it.
    const raw = `grant_type=password&username=${c.username}&password=${c.password}&client_id=${c.clientId}&client_secret=${c.clientSecret}`;
    const res = await fetch(server.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic(c.clientId, c.clientSecret) },
      body: raw,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'Bad credentials' });
  });

  it('gives a refresh token to the second client only, and each refresh token works once', async () => {
    const first = await login(c.refreshClient);
    expect(first.status).toBe(200);
    expect(typeof first.body.refresh_token).toBe('string');
    expect(claims(first.body.refresh_token).ati).toBe(first.body.jti);

    const second = await refresh(c.refreshClient, first.body.refresh_token as string);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ token_type: 'bearer', scope: 'read write', username: c.username });
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);

    // Spring puts the rejected token in its message.
    const replay = await refresh(c.refreshClient, first.body.refresh_token as string);
    expect(replay).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: `Invalid refresh token: ${first.body.refresh_token as string}` },
    });
  });

  it('refuses the refresh grant to the client without refresh tokens', async () => {
    const res = await refresh(c, 'anything');
    expect(res).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: 'Unauthorized grant type: refresh_token' },
    });
  });

  it('Spring errors for a refresh token that is unknown, absent, or of another client', async () => {
    expect(await refresh(c.refreshClient, 'not-a-token')).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid refresh token: not-a-token' },
    });
    expect(await refresh(c.refreshClient, undefined)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid refresh token: null' },
    });
  });

  it('requires the Basic header: missing, malformed or wrong gives Spring 401s', async () => {
    const params = { grant_type: 'password', username: c.username, password: c.password, client_id: c.clientId, client_secret: c.clientSecret };
    const missing = await postForm(server.tokenUrl, params);
    expect(missing).toMatchObject({
      status: 401,
      body: { error: 'unauthorized', error_description: 'Full authentication is required to access this resource' },
    });
    expect(missing.headers.get('www-authenticate')).toBe('Basic realm="oauth2/client"');
    expect(await postForm(server.tokenUrl, params, basic(c.clientId, 'wrong'))).toMatchObject({
      status: 401,
      body: { error: 'unauthorized', error_description: 'Bad credentials' },
    });
    expect(await postForm(server.tokenUrl, params, { authorization: 'Basic !!!' })).toMatchObject({ status: 401 });
  });

  it('requires client_id and client_secret in the body too, matching the Basic header', async () => {
    const headers = basic(c.clientId, c.clientSecret);
    const base = { grant_type: 'password', username: c.username, password: c.password };
    expect(await postForm(server.tokenUrl, base, headers)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: 'Bad client credentials' },
    });
    expect(
      await postForm(server.tokenUrl, { ...base, client_id: c.refreshClient.clientId, client_secret: c.clientSecret }, headers),
    ).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_description: 'Given client ID does not match authenticated client' },
    });
  });

  it('Spring errors for a wrong password, a missing grant type and an unknown one', async () => {
    expect(await login(c, { username: c.username, password: 'wrong' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Bad credentials' },
    });
    expect(await postForm(server.tokenUrl, {}, basic(c.clientId, c.clientSecret))).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Missing grant type' },
    });
    expect(await postForm(server.tokenUrl, { grant_type: 'magic' }, basic(c.clientId, c.clientSecret))).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'Unsupported grant type: magic' },
    });
  });

  it('a two-factor user needs a code, and each code works once', async () => {
    const user = c.twoFactorUser;
    expect(await login(c, user)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Two-factor code required' },
    });
    const code = server.nextTwoFactorCode();
    expect(code).toMatch(/^\d{6}$/);
    const ok = await login(c, user, { twofactor: code });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ username: user.username, userid: user.userid, fullname: user.fullname });
    expect(await login(c, user, { twofactor: code })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid two-factor code' },
    });
    // A user without two-factor ignores the optional parameter.
    expect((await login(c, c, { twofactor: '000000' })).status).toBe(200);
  });

  it('hands out two-factor codes over HTTP for CLI users', async () => {
    const res = await fetch(`${server.url}/__mock/two-factor-code`, { method: 'POST' });
    const { code } = (await res.json()) as { code: string };
    expect((await login(c, c.twoFactorUser, { twofactor: code })).status).toBe(200);
  });

  it('the API accepts only live tokens, and names the token it rejects, as Spring does', async () => {
    const { body } = await login();
    const token = body.access_token as string;
    expect((await get(`${server.apiUrl}/3dm/proteins`, bearer(token))).status).toBe(200);
    expect(await get(`${server.apiUrl}/3dm/proteins`)).toMatchObject({
      status: 401,
      body: { error: 'unauthorized', error_description: 'Full authentication is required to access this resource' },
    });
    server.revoke(token);
    expect(await get(`${server.apiUrl}/3dm/proteins`, bearer(token))).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', error_description: `Invalid access token: ${token}` },
    });
  });
});

describe('bio-prodict with short lifetimes', () => {
  it('an expired refresh token is a 401 invalid_token naming it; an expired access token is refused', async () => {
    await using server = await startMockServer({
      vendor: 'bio-prodict',
      accessTokenTtlSeconds: 1,
      refreshTokenTtlSeconds: 1,
      twoFactorCodeTtlSeconds: 1,
    });
    const c = server.credentials;
    const client = c.refreshClient;
    const code = server.nextTwoFactorCode();
    const res = await postForm(
      server.tokenUrl,
      { grant_type: 'password', username: c.username, password: c.password, client_id: client.clientId, client_secret: client.clientSecret },
      basic(client.clientId, client.clientSecret),
    );
    expect(res.body.expires_in).toBe(1);
    await sleep(1100);
    const token = res.body.access_token as string;
    expect(await get(`${server.apiUrl}/x`, bearer(token))).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', error_description: `Access token expired: ${token}` },
    });
    const rt = res.body.refresh_token as string;
    expect(
      await postForm(server.tokenUrl, { grant_type: 'refresh_token', refresh_token: rt }, basic(client.clientId, client.clientSecret)),
    ).toMatchObject({ status: 401, body: { error: 'invalid_token', error_description: `Invalid refresh token (expired): ${rt}` } });
    // Two-factor codes expire too.
    const late = await postForm(
      server.tokenUrl,
      {
        grant_type: 'password',
        username: c.twoFactorUser.username,
        password: c.twoFactorUser.password,
        client_id: c.clientId,
        client_secret: c.clientSecret,
        twofactor: code,
      },
      basic(c.clientId, c.clientSecret),
    );
    expect(late.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid two-factor code' });
  });

  it('nextTwoFactorCode() is only for bio-prodict', async () => {
    await using server = await startMockServer({ vendor: 'prodoscore' });
    expect(() => server.nextTwoFactorCode()).toThrow(TypeError);
  });
});
