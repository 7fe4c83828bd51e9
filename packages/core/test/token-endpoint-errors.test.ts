/**
 * What the token endpoint's failures become, against real servers on 127.0.0.1: bytes that are
 * not HTTP (no request as sent in any cause), token values no header can carry, OAuth-shaped
 * bodies on statuses that are not OAuth errors, and secret sets from another copy of the package.
 */
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  createTokenClient,
  ErrorCode,
  OAuthError,
  passwordGrant,
  redact,
  SecretSet,
  TokenEndpointError,
  type RefreshErrorEvent,
  type TokenClient,
} from '../src/index.js';
import { json, startServer, type Handler, type TestServer } from './helpers/token-server.js';

const PASSWORD = 'hunter2-Pa55word-do-not-print';
const CLIENT_SECRET = 'client-S3cret-do-not-print';

let server: TestServer;
const clients: TokenClient[] = [];
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 500, { error: 'no_handler_set' }));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.close());

/** A TCP server on 127.0.0.1 that answers each connection with `answer(bytes received)`. */
async function startTcp(answer: (received: Buffer, socket: Socket) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const tcp: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // The whole request arrives in one or two chunks; answer once, shortly after the first.
    const chunks: Buffer[] = [];
    let answered = false;
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (answered) return;
      answered = true;
      setTimeout(() => answer(Buffer.concat(chunks), socket), 20);
    });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        tcp.close(() => r());
      }),
  };
}

async function failure(client: TokenClient): Promise<unknown> {
  return client.getAccessToken().then(
    (token) => {
      throw new Error(`expected a failure, got a token of ${token.length} characters`);
    },
    (error: unknown) => error,
  );
}

describe('a token endpoint that does not speak HTTP', () => {
  for (const [name, answer] of [
    ['echoes the request back', (received: Buffer, socket: Socket) => socket.end(received)],
    ['writes garbage', (_received: Buffer, socket: Socket) => socket.end('\x00\x01garbage \xff\xfe not http\r\n\r\n')],
  ] as const) {
    it(`that ${name} gives a NETWORK error whose cause chain holds no password, secret or Basic value`, async () => {
      const tcp = await startTcp(answer);
      try {
        const grant = passwordGrant({
          tokenUrl: `${tcp.url}/token`,
          clientId: 'app',
          clientSecret: CLIENT_SECRET,
          clientAuth: 'client_secret_basic',
          username: 'alice',
          password: PASSWORD,
        });
        const client = createTokenClient({ grant, timeoutMs: 2000, retry: { retries: 0 } });
        clients.push(client);
        const events: RefreshErrorEvent[] = [];
        client.on('refresh_error', (e) => events.push(e));
        const error = await failure(client);
        expect(error).toBeInstanceOf(TokenEndpointError);
        expect((error as TokenEndpointError).code).toBe(ErrorCode.NETWORK);
        expect((error as Error).message).toContain(`Token endpoint ${tcp.url}/token`);
        // The parser error is there to diagnose, as a copy: its code, not its `data`.
        expect((error as Error).cause).toBeInstanceOf(Error);
        expect(events.length).toBeGreaterThan(0);
        const basic = Buffer.from(`app:${CLIENT_SECRET}`).toString('base64');
        const renderings = [
          inspect(error, { showHidden: true, depth: 20 }),
          JSON.stringify(error),
          JSON.stringify(events),
          inspect(events, { showHidden: true, depth: 20 }),
        ];
        for (const text of renderings) {
          expect(text).not.toContain(PASSWORD);
          expect(text).not.toContain(CLIENT_SECRET);
          expect(text).not.toContain(basic);
          expect(text).not.toContain('password=');
        }
      } finally {
        await tcp.close();
      }
    });
  }
});

describe('token values a header cannot carry', () => {
  function clientFor(handler: Handler): TokenClient {
    server.handler = handler;
    const client = createTokenClient({
      grant: passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'alice', password: PASSWORD }),
      timeoutMs: 2000,
      retry: { retries: 0 },
    });
    clients.push(client);
    return client;
  }

  for (const [what, token] of [
    ['CR LF', 'abc-secret-token\r\nX-Injected: 1'],
    ['NUL', 'abc-secret-token\u0000rest'],
    ['a space', 'abc-secret token'],
    ['"=" before the end', 'abc=secret-token'],
  ] as const) {
    it(`an access_token with ${what} is INVALID_RESPONSE naming access_token, never the value`, async () => {
      const client = clientFor((_req, res) => json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 60 }));
      const error = await failure(client);
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect((error as TokenEndpointError).code).toBe(ErrorCode.INVALID_RESPONSE);
      expect((error as Error).message).toMatch(/access_token/);
      expect((error as Error).message).toMatch(/RFC 6750/);
      expect(inspect(error, { depth: 10 })).not.toContain('abc');
    });
  }

  it('a refresh_token with a control character is INVALID_RESPONSE naming refresh_token, never the value', async () => {
    const client = clientFor((_req, res) =>
      json(res, 200, { access_token: 'good-token', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-secret\nvalue' }),
    );
    const error = await failure(client);
    expect((error as TokenEndpointError).code).toBe(ErrorCode.INVALID_RESPONSE);
    expect((error as Error).message).toMatch(/refresh_token/);
    expect(inspect(error, { depth: 10 })).not.toContain('rt-secret');
  });

  it('b64token access tokens with padding and visible-ASCII refresh tokens are accepted', async () => {
    const client = clientFor((_req, res) =>
      json(res, 200, { access_token: 'aB3-._~+/xyz==', token_type: 'Bearer', expires_in: 60, refresh_token: 'r t!"#$%&()*~' }),
    );
    const tokens = await client.getTokenSet();
    expect(tokens.accessToken).toBe('aB3-._~+/xyz==');
    expect(tokens.refreshToken).toBe('r t!"#$%&()*~');
  });
});

describe('OAuth-shaped bodies on statuses that are not OAuth errors', () => {
  function clientFor(handler: Handler): TokenClient {
    server.handler = handler;
    const client = createTokenClient({
      grant: clientCredentialsGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', clientSecret: CLIENT_SECRET }),
      timeoutMs: 2000,
      retry: { retries: 0 },
    });
    clients.push(client);
    return client;
  }

  it('a JSON 404 { error: "not_found" } from a wrong token URL is a TokenEndpointError naming the endpoint and status', async () => {
    const client = clientFor((_req, res) => json(res, 404, { error: 'not_found' }));
    const error = await failure(client);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).not.toBeInstanceOf(OAuthError);
    expect((error as TokenEndpointError).code).toBe(ErrorCode.HTTP_STATUS);
    expect((error as TokenEndpointError).status).toBe(404);
    expect((error as Error).message).toMatch(new RegExp(`^Token endpoint ${server.url}/token answered HTTP 404`));
    expect((error as Error).message).toContain('check the token URL');
  });

  it('a 500 with an OAuth-shaped body is HTTP_STATUS, not OAuthError', async () => {
    const client = clientFor((_req, res) => json(res, 500, { error: 'server_error', error_description: 'boom' }));
    const error = await failure(client);
    expect((error as TokenEndpointError).code).toBe(ErrorCode.HTTP_STATUS);
    expect((error as TokenEndpointError).status).toBe(500);
  });

  for (const status of [400, 401, 200]) {
    it(`an OAuth error body on ${status} is an OAuthError whose message names the token endpoint`, async () => {
      const client = clientFor((_req, res) => json(res, status, { error: 'invalid_client', error_description: 'Bad client credentials' }));
      const error = await failure(client);
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_client', errorDescription: 'Bad client credentials', status });
      expect((error as Error).message).toMatch(new RegExp(`^Token endpoint ${server.url}/token `));
    });
  }
});

describe('secret sets across copies of the package', () => {
  /** What a SecretSet of another copy looks like from here: another class, the same registered symbol. */
  function foreignSecretSet(...secrets: string[]): unknown {
    const key = Symbol.for('prodo-auth.secret-set.values');
    const foreign = { redact: (text: string) => text };
    Object.defineProperty(foreign, key, { value: () => secrets });
    return foreign;
  }

  it('merge() and redact() accept a SecretSet of another copy, where a private-field read would throw', () => {
    const foreign = foreignSecretSet(PASSWORD) as SecretSet;
    const set = new SecretSet().merge(foreign);
    expect(set.redact(`x ${PASSWORD} y`)).toBe('x [REDACTED] y');
    expect(redact(`x ${encodeURIComponent(PASSWORD)} y`, foreign)).toBe('x [REDACTED] y');
  });

  it('a SecretSet lists its secrets to another copy only through a non-enumerable symbol: inspect and JSON stay secret-free', () => {
    const set = new SecretSet().add(PASSWORD, CLIENT_SECRET);
    for (const text of [inspect(set, { showHidden: true, depth: 10 }), JSON.stringify(set), JSON.stringify({ ...set }), String(set)]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(CLIENT_SECRET);
    }
    const other = new SecretSet().merge(set);
    expect(other.redact(`${PASSWORD} ${CLIENT_SECRET}`)).toBe('[REDACTED] [REDACTED]');
  });
});
