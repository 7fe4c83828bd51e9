/** Small real servers on 127.0.0.1 for the adapter tests: an API that records what it saw, a token endpoint. */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientCredentialsGrant, createTokenClient, type TokenClient, type TokenClientOptions } from '@prodo-auth/core';

export interface Seen {
  method: string;
  path: string;
  host: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void | Promise<void>;

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  seen: Seen[];
  /** Sockets ever opened to this server. */
  connections: () => number;
  close: () => Promise<void>;
}

/** A server on 127.0.0.1 that records every request (with its body) before `handler` answers it. */
export async function startServer(handler: Handler = (_req, res) => json(res, 200, { ok: true })): Promise<TestServer> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', path: req.url ?? '', host: req.headers.host, headers: req.headers, body };
      seen.push(entry);
      void handler(req, res, entry);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    seen,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export interface TokenServer extends TestServer {
  tokenUrl: string;
  /** Token requests answered so far. */
  issued: () => number;
  /** Tokens the API accepts: every issued token that was not revoked. */
  isLive: (token: string | undefined) => boolean;
  revoke: (token: string) => void;
  /** Holds token responses until `release()`; `requested()` resolves when one is waiting. */
  hold: () => { requested: Promise<void>; release: () => void };
  /** Never answers token requests from now on. */
  hang: () => void;
}

/** A client_credentials token endpoint that issues tok-1, tok-2, ... */
export async function startTokenServer(): Promise<TokenServer> {
  let issued = 0;
  const live = new Set<string>();
  let gate: Promise<void> | undefined;
  let onRequest: (() => void) | undefined;
  let hanging = false;
  const server = await startServer(async (_req, res) => {
    onRequest?.();
    if (hanging) return;
    await gate;
    const token = `tok-${++issued}`;
    live.add(token);
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
  });
  return {
    ...server,
    tokenUrl: `${server.origin}/token`,
    issued: () => issued,
    isLive: (token) => token !== undefined && live.has(token),
    revoke: (token) => live.delete(token),
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      const requested = new Promise<void>((resolve) => (onRequest = resolve));
      return { requested, release };
    },
    hang: () => (hanging = true),
  };
}

/** A token client for `tokens`, with no retries so that failures show at once. */
export function tokenClient(tokens: TokenServer, options: Partial<TokenClientOptions> = {}): TokenClient {
  return createTokenClient({
    grant: clientCredentialsGrant({ tokenUrl: tokens.tokenUrl, clientId: 'svc', clientSecret: 'svc-secret' }),
    retry: { retries: 0 },
    ...options,
  });
}

/** The bearer token of a recorded request. */
export function bearerOf(seen: Seen | undefined): string | undefined {
  return seen?.headers.authorization?.replace(/^Bearer /, '');
}

/** An API that accepts only live tokens of `tokens`, answering 401 with a Bearer challenge otherwise. */
export function protectedApi(tokens: TokenServer, answer?: Handler): Handler {
  return (req, res, seen) => {
    if (!tokens.isLive(bearerOf(seen))) {
      return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    return answer ? answer(req, res, seen) : json(res, 200, { ok: true, body: seen.body });
  };
}
