/**
 * A token endpoint that issues tokens already expired (or already due for refresh) on arrival
 * must not cost one token request per call: the client backs off like the background refresh
 * (1 s doubling to 30 s), serves the token it got meanwhile, and resets on a good token.
 * Real token server on 127.0.0.1; only Date is faked.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenClient, ErrorCode, passwordGrant, type RefreshErrorEvent, type TokenClient } from '../src/index.js';
import { json, fakeJwt, startServer, type TestServer } from './helpers/token-server.js';

let server: TestServer;
let stale = true;
const clients: TokenClient[] = [];

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

function client(): TokenClient {
  const c = createTokenClient({
    grant: passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'alice', password: 'wonderland' }),
    retry: { retries: 0 },
  });
  clients.push(c);
  return c;
}

async function calls(c: TokenClient, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push(await c.getAccessToken());
  return tokens;
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  stale = true;
  // A JWT whose exp is a minute in the past by our clock, until `stale` is turned off.
  server = await startServer((_req, res) => {
    const now = Math.floor(Date.now() / 1000);
    json(res, 200, {
      access_token: fakeJwt({ exp: stale ? now - 60 : now + 3600, n: server.requests.length }),
      token_type: 'Bearer',
      expires_in: 3600,
    });
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
  vi.useRealTimers();
});

describe('a token that is already expired when issued', () => {
  it('costs one token request for many sequential calls, and the token is served meanwhile', async () => {
    const c = client();
    const events: RefreshErrorEvent[] = [];
    c.on('refresh_error', (e) => events.push(e));
    const tokens = await calls(c, 50);
    expect(server.requests).toHaveLength(1);
    expect(new Set(tokens).size).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ servingCurrentToken: true, error: { code: ErrorCode.INVALID_RESPONSE } });
    expect((events[0]!.error as Error).message).not.toContain(tokens[0]);
  });

  it('backs off 1 s doubling, and resets once a token arrives fresh', async () => {
    const c = client();
    await calls(c, 5);
    expect(server.requests).toHaveLength(1);
    advance(1001); // backoff of 1 s over
    await calls(c, 5);
    expect(server.requests).toHaveLength(2);
    advance(1001); // the backoff is 2 s now
    await calls(c, 5);
    expect(server.requests).toHaveLength(2);
    advance(1000);
    await calls(c, 5);
    expect(server.requests).toHaveLength(3);

    stale = false;
    advance(4001);
    const good = await calls(c, 5);
    expect(server.requests).toHaveLength(4);
    expect(new Set(good).size).toBe(1);

    // A later stale token starts again at 1 s, not where the old backoff stopped.
    stale = true;
    advance(3600_000);
    await calls(c, 5);
    expect(server.requests).toHaveLength(5);
    advance(1001);
    await calls(c, 5);
    expect(server.requests).toHaveLength(6);
  });

  it('a stale token the API rejected (invalidate) is not served again during the backoff', async () => {
    const c = client();
    const [first] = await calls(c, 3);
    expect(server.requests).toHaveLength(1);
    await c.invalidate(first);
    const [next] = await calls(c, 1);
    expect(server.requests).toHaveLength(2);
    expect(next).not.toBe(first);
  });

  it('caps the backoff at 30 s', async () => {
    const c = client();
    for (let i = 0; i < 8; i++) {
      await calls(c, 2);
      advance(30_001);
    }
    // Without a cap the 7th wait would be 64 s; with it every 30 s step makes one request.
    expect(server.requests).toHaveLength(8);
  });

  it('with expires_in 1 and a reply slower than half of it, does not request on every call', async () => {
    server.handler = (_req, res) => {
      advance(600); // the answer takes 600 ms of the token's 1 s life: it arrives due for refresh
      json(res, 200, { access_token: `short-${server.requests.length}`, token_type: 'Bearer', expires_in: 1 });
    };
    const c = client();
    const tokens = await calls(c, 30);
    expect(new Set(tokens)).toEqual(new Set(['short-1']));
    await new Promise((r) => setTimeout(r, 50)); // room for a (wrong) background refresh
    expect(server.requests).toHaveLength(1);
  });
});
