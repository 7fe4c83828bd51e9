/** The transport's connection handling: keep-alive, proxies from the environment, a caller's dispatcher. */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenClient, parseRetryAfter, passwordGrant } from '../src/index.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

let server: TestServer;
let issued = 0;
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 200, { access_token: `t-${++issued}`, token_type: 'Bearer', expires_in: 60 }));
});
afterAll(() => server.close());

const grant = (): ReturnType<typeof passwordGrant> =>
  passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'u', password: 'p' });

/** A CONNECT proxy on 127.0.0.1 that records the targets it tunnels to. */
async function startProxy(): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const targets: string[] = [];
  const proxy: Server = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, socket, head) => {
    targets.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
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

  it('honours HTTP_PROXY from the environment', async () => {
    const proxy = await startProxy();
    const saved = { ...process.env };
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '';
    try {
      const c = createTokenClient({ grant: grant() });
      await c.getAccessToken();
      await c.close();
      expect(proxy.targets).toEqual([new URL(server.url).host]);
    } finally {
      process.env = saved;
      await proxy.close();
    }
  });

  it('skips the proxy for hosts in NO_PROXY', async () => {
    const proxy = await startProxy();
    const saved = { ...process.env };
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    try {
      const c = createTokenClient({ grant: grant() });
      await c.getAccessToken();
      await c.close();
      expect(proxy.targets).toEqual([]);
    } finally {
      process.env = saved;
      await proxy.close();
    }
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
