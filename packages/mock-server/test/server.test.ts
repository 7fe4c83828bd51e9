import { describe, expect, it } from 'vitest';
import { startMockServer, VENDORS } from '../src/index.js';
import { bearer, get, postForm, postJson } from './helpers.js';

describe('startMockServer', () => {
  it('listens on 127.0.0.1 and a free port by default, with the URLs each vendor has', async () => {
    for (const vendor of VENDORS) {
      await using server = await startMockServer({ vendor });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.tokenUrl.startsWith(server.url)).toBe(true);
      expect(server.apiUrl.startsWith(server.url)).toBe(true);
      expect(server.refreshUrl === undefined).toBe(vendor !== 'petrosoft');
      expect(server.authorizeUrl === undefined).toBe(vendor !== 'procurios');
      // Every vendor's browser-token shortcut opens its API (Procurios also wants its media type).
      const token = await server.issueAccessToken();
      const res = await get(`${server.apiUrl}/probe`, { ...bearer(token), accept: 'application/vnd.procurios.application+json; version=1' });
      expect(res.status).toBe(200);
    }
  });

  it('listens on the port it is given', async () => {
    const probe = await startMockServer({ vendor: 'prodoscore' });
    const port = Number(new URL(probe.url).port);
    await probe.close();
    await using server = await startMockServer({ vendor: 'prodoscore', port });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
  });

  it('refuses bad options with a TypeError that names them', async () => {
    await expect(startMockServer({ vendor: 'keycloak' as never })).rejects.toThrow(/vendor must be one of/);
    await expect(startMockServer({ vendor: 'prodoscore', host: '0.0.0.0' })).rejects.toThrow(/host must be a loopback address/);
    await expect(startMockServer({ vendor: 'prodoscore', accessTokenTtlSeconds: 0 })).rejects.toThrow(/accessTokenTtlSeconds/);
    await expect(startMockServer({ vendor: 'prodoscore', requireConsent: true })).rejects.toThrow(
      /requireConsent applies only to vendor procurios/,
    );
    await expect(startMockServer({ vendor: 'procurios', refreshTokenTtlSeconds: 10 })).rejects.toThrow(/refreshTokenTtlSeconds/);
    await expect(startMockServer({ vendor: 'prodoscore', tokenTtl: 5 } as never)).rejects.toThrow(TypeError);
  });

  it('counts token requests by grant, API calls and rejections', async () => {
    await using server = await startMockServer({ vendor: 'prodoscore' });
    const { clientId, username, password } = server.credentials;
    const ok = await postForm(server.tokenUrl, { grant_type: 'password', client_id: clientId, username, password });
    await postForm(server.tokenUrl, { grant_type: 'password', client_id: clientId, username, password: 'wrong' });
    await postForm(server.tokenUrl, { grant_type: 'refresh_token', client_id: clientId, refresh_token: ok.body.refresh_token as string });
    await postForm(server.tokenUrl, { grant_type: 'device_code', client_id: clientId });
    await get(`${server.apiUrl}/a`, bearer(ok.body.access_token as string));
    await get(`${server.apiUrl}/b`);
    expect(server.stats).toEqual({
      tokenRequests: 4,
      byGrant: { password: 2, refresh_token: 1, authorization_code: 0, client_credentials: 0, other: 1 },
      tokenRejections: 2,
      authorizeRequests: 0,
      apiRequests: 2,
      apiRejections: 1,
      faultsInjected: 0,
    });
    const overHttp = await get(`${server.url}/__mock/stats`);
    expect(overHttp.body).toEqual(server.stats);
    server.resetStats();
    expect(server.stats.tokenRequests).toBe(0);
  });

  it('counts Petrosoft login and refresh as password and refresh_token, Procurios code as authorization_code', async () => {
    await using petro = await startMockServer({ vendor: 'petrosoft' });
    const login = await postJson(petro.tokenUrl, petro.credentials);
    await postJson(petro.refreshUrl!, { refresh_token: login.body.refresh_token });
    expect(petro.stats.byGrant).toMatchObject({ password: 1, refresh_token: 1 });

    await using proc = await startMockServer({ vendor: 'procurios' });
    await postForm(proc.tokenUrl, { grant_type: 'code', client_id: 'abc123', client_secret: 'dfe456', code: 'x' });
    await fetch(`${proc.authorizeUrl}?response_type=code&client_id=abc123&redirect_url=example.com`, { redirect: 'manual' });
    expect(proc.stats).toMatchObject({ authorizeRequests: 1, byGrant: { authorization_code: 1 }, tokenRejections: 1 });
  });

  it('revoke() over HTTP, 404 for unknown paths, 405 for a GET token request, 413 for a huge body', async () => {
    await using server = await startMockServer({ vendor: 'prodoscore' });
    const token = await server.issueAccessToken();
    const revoked = await postJson(`${server.url}/__mock/revoke`, { token });
    expect(revoked.body).toEqual({ revoked: true });
    expect((await get(`${server.apiUrl}/x`, bearer(token))).status).toBe(401);
    expect(server.revoke('never-issued')).toBe(false);
    expect((await get(`${server.url}/nowhere`)).status).toBe(404);
    expect((await get(server.tokenUrl)).status).toBe(405);
    const huge = await postForm(server.tokenUrl, { grant_type: 'x'.repeat(70_000) });
    expect(huge.status).toBe(413);
  });

  it('close() is idempotent, frees the port, and works as `await using`', async () => {
    const server = await startMockServer({ vendor: 'bio-prodict' });
    // Leave a keep-alive connection open; close() must still finish.
    await get(`${server.apiUrl}/x`);
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(server.apiUrl)).rejects.toThrow();
  });
});
