/**
 * The transport's connection handling: keep-alive, proxies from the environment (never for
 * loopback), a caller's dispatcher, no redirects, and a deadline that holds by itself.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Agent, Dispatcher, interceptors } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenClient, ErrorCode, parseRetryAfter, passwordGrant, TokenEndpointError, Transport } from '../src/index.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

let server: TestServer;
let issued = 0;
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 200, { access_token: `t-${++issued}`, token_type: 'Bearer', expires_in: 60 }));
});
afterAll(() => server.close());

const grant = (): ReturnType<typeof passwordGrant> =>
  passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'u', password: 'p' });

interface TestProxy {
  url: string;
  /** The CONNECT targets and the plain proxied request URLs it saw. */
  targets: string[];
  close: () => Promise<void>;
}

/**
 * A CONNECT proxy on 127.0.0.1 that records the targets it tunnels to. Every tunnel ends at the
 * test server, whatever host was asked for, so a non-loopback name never leaves the machine.
 */
async function startProxy(mode: 'tunnel' | 'close' = 'tunnel'): Promise<TestProxy> {
  const targets: string[] = [];
  const proxy: Server = createServer((req, res) => {
    targets.push(req.url ?? '');
    res.writeHead(405).end();
  });
  proxy.on('connect', (req, socket, head) => {
    targets.push(req.url ?? '');
    if (mode === 'close') {
      socket.destroy();
      return;
    }
    const upstream = connect(Number(new URL(server.url).port), '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    targets,
    close: () => new Promise<void>((r) => (proxy.closeAllConnections(), proxy.close(() => r()))),
  };
}

describe('transport', () => {
  it('reuses one kept-alive connection across token requests', async () => {
    const before = server.connections;
    const c = createTokenClient({ grant: grant() });
    for (let i = 0; i < 5; i++) {
      await c.getAccessToken();
      await c.invalidate();
      // undici frees a socket just after the body ends; a request sent in that instant opens another.
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.close();
    expect(server.requests.length).toBeGreaterThanOrEqual(5);
    expect(server.connections - before).toBe(1);
  });

  it("sends through the caller's dispatcher", async () => {
    const seen: string[] = [];
    const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      seen.push(`${opts.method} ${opts.path}`);
      return dispatch(opts, handler);
    });
    const c = createTokenClient({ grant: grant(), dispatcher });
    await c.getAccessToken();
    await c.close();
    expect(seen).toEqual(['POST /token']);
    // The caller's dispatcher stays open: the client only closes what it created.
    await dispatcher.close();
  });

  it('honours HTTP_PROXY from the environment for a host off loopback', async () => {
    const proxy = await startProxy();
    const t = await withEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '' }, async () => {
      const transport = new Transport({ timeoutMs: 3000 });
      // The dispatcher is built, and the environment read, on first use.
      await transport.getDispatcher();
      return transport;
    });
    try {
      const res = await t.send({ url: new URL('http://token.example.test/token'), headers: {}, body: 'grant_type=password' });
      expect(res.status).toBe(200);
      expect(proxy.targets).toEqual(['token.example.test:80']);
    } finally {
      await t.close();
      await proxy.close();
    }
  });

  it('skips the proxy for hosts in NO_PROXY', async () => {
    const proxy = await startProxy();
    const t = new Transport({ timeoutMs: 1000, retry: { retries: 0 } });
    try {
      // undici reads NO_PROXY on each request: keep it set while sending.
      await withEnv({ HTTP_PROXY: proxy.url, NO_PROXY: 'token.example.test' }, async () => {
        // Not proxied, so the made-up name is looked up for real and fails: what matters is the proxy saw nothing.
        await t.send({ url: new URL('http://token.example.test/token'), headers: {}, body: '' }).catch(() => undefined);
      });
      expect(proxy.targets).toEqual([]);
    } finally {
      await t.close();
      await proxy.close();
    }
  });

  it('loopback token traffic never goes through HTTP_PROXY / HTTPS_PROXY, even without NO_PROXY', async () => {
    const proxy = await startProxy();
    const before = server.requests.length;
    await withEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: undefined }, async () => {
      const c = createTokenClient({ grant: grant() });
      await c.getAccessToken();
      await c.close();
      const local = passwordGrant({ tokenUrl: `${server.url.replace('127.0.0.1', 'localhost')}/token`, clientId: 'app', username: 'u', password: 'p' });
      const c2 = createTokenClient({ grant: local });
      await c2.getAccessToken();
      await c2.close();
    });
    try {
      expect(proxy.targets).toEqual([]);
      expect(server.requests.length - before).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("a 307 from the token endpoint is not followed, even through a caller's redirect interceptor", async () => {
    const elsewhere = await startServer((_req, res) => json(res, 200, { access_token: 'stolen', token_type: 'Bearer' }));
    const redirecting = await startServer((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/token` }).end();
    });
    const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 3 }));
    const c = createTokenClient({
      grant: passwordGrant({ tokenUrl: `${redirecting.url}/token`, clientId: 'app', username: 'u', password: 'p' }),
      dispatcher,
      retry: { retries: 0 },
    });
    try {
      const error = await c.getAccessToken().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect((error as TokenEndpointError).code).toBe(ErrorCode.HTTP_STATUS);
      expect((error as TokenEndpointError).status).toBe(307);
      expect((error as Error).message).toMatch(/redirect/);
      expect((error as Error).message).toContain(`Token endpoint ${redirecting.url}/token`);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await c.close();
      await dispatcher.close();
      await Promise.all([elsewhere.close(), redirecting.close()]);
    }
  });

  it('the deadline holds when HTTPS_PROXY closes every CONNECT: a typed error in time, and few attempts', async () => {
    const proxy = await startProxy('close');
    const t = await withEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: undefined }, async () => {
      const transport = new Transport({ timeoutMs: 1000, retry: { retries: 2, minDelayMs: 10 } });
      await transport.getDispatcher();
      return transport;
    });
    try {
      const started = performance.now();
      const error = await t.send({ url: new URL('https://token.example.test/token'), headers: {}, body: '' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(TokenEndpointError);
      // The tunnel never opened: nothing reached the token endpoint, which the error says.
      expect([ErrorCode.NETWORK, ErrorCode.TIMEOUT]).toContain((error as TokenEndpointError).code);
      expect((error as TokenEndpointError).requestSent).toBe(false);
      expect(elapsed).toBeLessThan(1000 + 300);
      // One CONNECT per attempt (the first and two retries), not a reconnect loop.
      expect(proxy.targets.length).toBeLessThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 200));
      expect(proxy.targets.length).toBeLessThanOrEqual(3);
    } finally {
      await t.close();
      await proxy.close();
    }
  });

  it('the deadline holds with a dispatcher that ignores the abort signal: TIMEOUT within timeoutMs', async () => {
    let dispatched = 0;
    /** Takes every request and never answers, nor looks at its signal. */
    class BlackHole extends Dispatcher {
      override dispatch(): boolean {
        dispatched++;
        return true;
      }
    }
    const t = new Transport({ timeoutMs: 300, dispatcher: new BlackHole() });
    const started = performance.now();
    const error = await t.send({ url: new URL(`${server.url}/token`), headers: {}, body: '' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).code).toBe(ErrorCode.TIMEOUT);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 200);
    expect(dispatched).toBe(1);
    await t.close();
  });

  it('close() before any request resolves, and does not build a dispatcher', async () => {
    const t = new Transport();
    await t.close();
    expect(t.closed).toBe(true);
    const error = await t.send({ url: new URL(`${server.url}/token`), headers: {}, body: '' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as TokenEndpointError).code).toBe(ErrorCode.CLOSED);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

/** Runs `fn` with the given environment variables set (undefined: removed), then restores them all. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}
