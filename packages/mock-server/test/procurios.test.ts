import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bearer, get, postForm, sleep } from './helpers.js';

// The doc's example API request headers.
const PROCURIOS_ACCEPT = { accept: 'application/vnd.procurios.application+json; version=1', 'accept-language': 'en-US,en;q=0.5' };

/** Follows the authorize endpoint once and returns the redirect's Location. */
async function authorize(server: MockServer, query: string): Promise<{ status: number; location: string | null; text: string }> {
  const res = await fetch(`${server.authorizeUrl}?${query}`, { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

function codeOf(location: string | null): string {
  const match = /[?&]code=([^&#]+)/.exec(location ?? '');
  if (!match) throw new Error(`no code in ${location}`);
  return match[1]!;
}

describe('procurios', () => {
  let server: MockServer<'procurios'>;
  let callback: string;
  beforeAll(async () => {
    server = await startMockServer({ vendor: 'procurios' });
    callback = 'http://127.0.0.1:43210/auth/callback';
  });
  afterAll(() => server.close());

  const exchange = (code: string, extra: Record<string, string> = {}) =>
    postForm(server.tokenUrl, { grant_type: 'code', client_id: 'abc123', code, client_secret: 'dfe456', ...extra });

  it("runs the doc's authorize example as written: response_type=code, redirect_url=example.com", async () => {
    const res = await authorize(server, 'response_type=code&scope=profile&client_id=abc123&redirect_url=example.com');
    expect(res.status).toBe(302);
    // "{redirectUrl}?code={code}"
    expect(res.location).toMatch(/^example\.com\?code=[0-9a-f]+$/);
  });

  it("also takes the doc's template reading (grant_type=code) and RFC 6749's redirect_uri, and echoes state", async () => {
    const res = await authorize(
      server,
      `grant_type=code&scope=profile&client_id=abc123&redirect_uri=${encodeURIComponent(callback)}&state=xyz`,
    );
    expect(res.status).toBe(302);
    const location = new URL(res.location!);
    expect(`${location.origin}${location.pathname}`).toBe(callback);
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(location.searchParams.get('code')).toMatch(/^[0-9a-f]+$/);
  });

  it('never redirects to an unregistered URL or for an unknown client', async () => {
    const evil = await authorize(server, 'response_type=code&client_id=abc123&redirect_url=https%3A%2F%2Fevil.example%2F');
    expect(evil.status).toBe(400);
    expect(evil.location).toBeNull();
    expect(evil.text).toContain('not registered');
    const unknown = await authorize(server, `response_type=code&client_id=nope&redirect_url=${encodeURIComponent(callback)}`);
    expect(unknown.status).toBe(400);
    // A loopback redirect may change its port (RFC 8252 section 7.3), not its path.
    const otherPath = await authorize(server, 'response_type=code&client_id=abc123&redirect_url=http%3A%2F%2F127.0.0.1%3A9%2Fother');
    expect(otherPath.status).toBe(400);
  });

  it('redirects errors once the redirect is verified: unsupported response type, unknown scope', async () => {
    const token = await authorize(server, `response_type=token&client_id=abc123&redirect_url=${encodeURIComponent(callback)}&state=s1`);
    const tokenLocation = new URL(token.location!);
    expect(tokenLocation.searchParams.get('error')).toBe('unsupported_response_type');
    expect(tokenLocation.searchParams.get('state')).toBe('s1');
    const scope = await authorize(server, `response_type=code&scope=admin&client_id=abc123&redirect_url=${encodeURIComponent(callback)}`);
    expect(new URL(scope.location!).searchParams.get('error')).toBe('invalid_scope');
  });

  it("exchanges a code with the doc's grant_type=code request for an answer with only access_token", async () => {
    const code = codeOf((await authorize(server, 'response_type=code&scope=profile&client_id=abc123&redirect_url=example.com')).location);
    const res = await exchange(code);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access_token']);
    const api = await get(`${server.apiUrl}/object`, { ...PROCURIOS_ACCEPT, ...bearer(res.body.access_token as string) });
    expect(api.status).toBe(200);
    expect(api.headers.get('content-type')).toBe('application/vnd.procurios.application+json; version=1');
  });

  it('codes are single-use: a replay fails and revokes the token the code produced', async () => {
    const code = codeOf((await authorize(server, `response_type=code&client_id=abc123&redirect_url=${encodeURIComponent(callback)}`)).location);
    const first = await exchange(code, { grant_type: 'authorization_code' });
    expect(first.status).toBe(200);
    const replay = await exchange(code);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const api = await get(`${server.apiUrl}/object`, { ...PROCURIOS_ACCEPT, ...bearer(first.body.access_token as string) });
    expect(api.status).toBe(401);
  });

  it('checks the client, and the redirect when the exchange names one', async () => {
    const code = codeOf((await authorize(server, `response_type=code&client_id=abc123&redirect_url=${encodeURIComponent(callback)}`)).location);
    expect(await exchange(code, { client_secret: 'wrong' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await exchange(code, { redirect_url: 'example.com' })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await exchange(code, { redirect_url: callback })).status).toBe(200);
    expect(await exchange('unknown-code')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await postForm(server.tokenUrl, { grant_type: 'password', client_id: 'abc123', client_secret: 'dfe456' })).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
  });

  it('verifies PKCE when the authorize request carried a challenge', async () => {
    const verifier = 'a-code-verifier-of-at-least-forty-three-characters-long';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const start = () =>
      authorize(
        server,
        `response_type=code&client_id=abc123&redirect_url=${encodeURIComponent(callback)}&code_challenge=${challenge}&code_challenge_method=S256`,
      );
    expect(await exchange(codeOf((await start()).location), { code_verifier: 'wrong' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await exchange(codeOf((await start()).location), { code_verifier: verifier })).status).toBe(200);
  });

  it("answers the doc's client credentials example with access_token, token_type bearer, expires_in 3600 and scope", async () => {
    const res = await postForm(server.tokenUrl, { grant_type: 'client_credentials', client_id: 'abc123', client_secret: 'dfe456', scope: 'profile' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'profile' });
    // client_secret_post only, as the doc sends it: a Basic header alone does not authenticate.
    const basicOnly = await postForm(
      server.tokenUrl,
      { grant_type: 'client_credentials', scope: 'profile' },
      { authorization: `Basic ${Buffer.from('abc123:dfe456').toString('base64')}` },
    );
    expect(basicOnly).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('the API requires the versioned media type (406) besides a live Bearer token (401)', async () => {
    const { body } = await postForm(server.tokenUrl, { grant_type: 'client_credentials', client_id: 'abc123', client_secret: 'dfe456', scope: 'profile' });
    const auth = bearer(body.access_token as string);
    expect((await get(`${server.apiUrl}/object`, PROCURIOS_ACCEPT)).status).toBe(401);
    expect((await get(`${server.apiUrl}/object`, { ...auth, accept: 'application/json' })).status).toBe(406);
    expect((await get(`${server.apiUrl}/object`, { ...auth, accept: 'application/vnd.procurios.application+json; version=2' })).status).toBe(406);
    expect((await get(`${server.apiUrl}/object`, { ...auth, accept: 'application/vnd.procurios.application+json;version=1' })).status).toBe(200);
    // The doc's POST example: a JSON body, and no Content-Type.
    const post = await fetch(`${server.apiUrl}/object`, {
      method: 'POST',
      headers: { ...PROCURIOS_ACCEPT, ...auth },
      body: '{\n"key": "value",\n"otherKey": 2\n}',
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ data: { method: 'POST', received: { key: 'value', otherKey: 2 } } });
  });
});

describe('procurios options', () => {
  it("singleQuotedTokenResponse sends the doc's literal {'access_token': '...'}, which is not JSON", async () => {
    await using server = await startMockServer({ vendor: 'procurios', singleQuotedTokenResponse: true });
    const code = codeOf((await authorize(server, 'response_type=code&client_id=abc123&redirect_url=example.com')).location);
    const res = await postForm(server.tokenUrl, { grant_type: 'code', client_id: 'abc123', code, client_secret: 'dfe456' });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^\{'access_token': '[0-9a-f]+'\}$/);
    expect(() => JSON.parse(res.text) as unknown).toThrow();
  });

  it('requireConsent serves a page with an Approve button that POSTs; a ticket works once; Deny redirects access_denied', async () => {
    await using server = await startMockServer({ vendor: 'procurios', requireConsent: true });
    const query = 'response_type=code&scope=profile&client_id=abc123&redirect_url=example.com&state=st';
    const page = await authorize(server, query);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<form method="post" action="\/l\/oauth2\/authorize">/);
    expect(page.text).toMatch(/<button type="submit" name="decision" value="approve">Approve<\/button>/);
    const ticket = /name="consent" value="([^"]+)"/.exec(page.text)![1]!;
    const approve = () =>
      fetch(server.authorizeUrl!, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ consent: ticket, decision: 'approve' }),
      });
    const approved = await approve();
    expect(approved.status).toBe(302);
    expect(approved.headers.get('location')).toMatch(/^example\.com\?code=[0-9a-f]+&state=st$/);
    expect((await approve()).status).toBe(400);

    const second = await authorize(server, query);
    const denied = await fetch(server.authorizeUrl!, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ consent: /name="consent" value="([^"]+)"/.exec(second.text)![1]!, decision: 'deny' }),
    });
    expect(denied.headers.get('location')).toMatch(/^example\.com\?error=access_denied&.*state=st$/);
  });

  it('codes expire, and a token without a stated expiry still dies after accessTokenTtlSeconds', async () => {
    await using server = await startMockServer({ vendor: 'procurios', authorizationCodeTtlSeconds: 1, accessTokenTtlSeconds: 1 });
    const start = () => authorize(server, 'response_type=code&client_id=abc123&redirect_url=example.com');
    const stale = codeOf((await start()).location);
    const fresh = codeOf((await start()).location);
    const res = await postForm(server.tokenUrl, { grant_type: 'code', client_id: 'abc123', code: fresh, client_secret: 'dfe456' });
    const auth = { ...PROCURIOS_ACCEPT, ...bearer(res.body.access_token as string) };
    expect((await get(`${server.apiUrl}/object`, auth)).status).toBe(200);
    await sleep(1100);
    expect((await get(`${server.apiUrl}/object`, auth)).status).toBe(401);
    const late = await postForm(server.tokenUrl, { grant_type: 'code', client_id: 'abc123', code: stale, client_secret: 'dfe456' });
    expect(late).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
