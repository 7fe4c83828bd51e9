import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bearer, get, postForm } from './helpers.js';

describe('fault injection', () => {
  let server: MockServer<'prodoscore'>;
  beforeAll(async () => {
    server = await startMockServer({ vendor: 'prodoscore' });
  });
  afterEach(() => {
    server.faults.reset();
    server.resetStats();
  });
  afterAll(() => server.close());

  const login = () => {
    const { clientId, username, password } = server.credentials;
    return postForm(server.tokenUrl, { grant_type: 'password', client_id: clientId, username, password });
  };
  const refresh = (token: unknown) =>
    postForm(server.tokenUrl, { grant_type: 'refresh_token', client_id: server.credentials.clientId, refresh_token: token as string });

  it('latencyMs delays every answer', async () => {
    server.faults.set({ latencyMs: 300 });
    const started = performance.now();
    expect((await login()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('failTokenRequests answers the next N token requests 503 without processing them', async () => {
    const { body } = await login();
    server.faults.set({ failTokenRequests: 2 });
    const failed = await refresh(body.refresh_token);
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect((await login()).status).toBe(503);
    expect(server.faults.current.failTokenRequests).toBe(0);
    // The refresh token was not spent by the failed request.
    expect((await refresh(body.refresh_token)).status).toBe(200);
    expect(server.stats).toMatchObject({ tokenRequests: 4, faultsInjected: 2, tokenRejections: 0 });
  });

  it('failTokenRequests leaves the API alone', async () => {
    const token = await server.issueAccessToken();
    server.faults.set({ failTokenRequests: 1 });
    expect((await get(`${server.apiUrl}/x`, bearer(token))).status).toBe(200);
    expect(server.faults.current.failTokenRequests).toBe(1);
  });

  it('dropConnections destroys the socket of the next N requests, before anything is processed', async () => {
    const { body } = await login();
    server.faults.set({ dropConnections: 1 });
    await expect(refresh(body.refresh_token)).rejects.toThrow();
    // Nothing happened: the refresh token still works.
    expect((await refresh(body.refresh_token)).status).toBe(200);
    expect(server.stats.faultsInjected).toBe(1);
  });

  it('loseTokenResponses processes the next N token requests but never answers them', async () => {
    const { body } = await login();
    server.faults.set({ loseTokenResponses: 1 });
    await expect(refresh(body.refresh_token)).rejects.toThrow();
    // The refresh happened: sending the token again is a reuse.
    const again = await refresh(body.refresh_token);
    expect(again).toMatchObject({ status: 400, body: { error_description: 'Maximum allowed refresh token reuse exceeded' } });
  });

  it('slowBodyMs drips the body: headers come at once, the body over the given time', async () => {
    // Wide margins: the machine is shared, and only the order of magnitude matters here.
    server.faults.set({ slowBodyMs: 1200 });
    const started = performance.now();
    const { clientId, username, password } = server.credentials;
    const res = await fetch(server.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password }),
    });
    const headersAt = performance.now() - started;
    const body = (await res.json()) as Record<string, unknown>;
    const doneAt = performance.now() - started;
    expect(res.status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(headersAt).toBeLessThan(700);
    expect(doneAt).toBeGreaterThanOrEqual(1150);
  });

  it('faults can be set at start and over HTTP, and every value is bounded', async () => {
    await using other = await startMockServer({ vendor: 'petrosoft', faults: { failTokenRequests: 1 } });
    expect((await fetch(other.tokenUrl, { method: 'POST', body: '{}' })).status).toBe(503);

    const set = await fetch(`${server.url}/__mock/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failTokenRequests: 1 }),
    });
    expect(set.status).toBe(200);
    expect(server.faults.current.failTokenRequests).toBe(1);
    const bad = await fetch(`${server.url}/__mock/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 10_000_000 }),
    });
    expect(bad.status).toBe(400);

    expect(() => server.faults.set({ latencyMs: 60_001 })).toThrow(TypeError);
    expect(() => server.faults.set({ dropConnections: -1 })).toThrow(TypeError);
    expect(() => server.faults.set({ slowBodyMs: 1.5 })).toThrow(TypeError);
    expect(() => server.faults.set({ unknown: 1 } as never)).toThrow(TypeError);
    await expect(startMockServer({ vendor: 'prodoscore', faults: { latencyMs: -5 } })).rejects.toThrow(TypeError);
  });

  it('close() ends a request that is waiting out its latency, at once', async () => {
    const slow = await startMockServer({ vendor: 'prodoscore', faults: { latencyMs: 60_000 } });
    const pending = fetch(`${slow.apiUrl}/x`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await slow.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('failed');
  });
});
