/** A real HTTP server on 127.0.0.1 for tests: records every request, answers with a handler. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The body parsed as form or JSON, whichever it is. */
  params: Record<string, unknown>;
  receivedAt: number;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose path matches. */
  requestsTo(path: string): RecordedRequest[];
  handler: Handler;
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parse(body: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(body));
}

/** Starts a server on 127.0.0.1 with a random port. Swap `server.handler` at any time. */
export async function startServer(handler: Handler, port = 0): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const state: TestServer = {
    url: '',
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    handler,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://x').pathname,
      headers: req.headers,
      body,
      params: parse(body, req.headers['content-type']),
      receivedAt: Date.now(),
    };
    requests.push(recorded);
    try {
      await state.handler(recorded, res);
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: 'test_handler_failed', error_description: String(error) });
    }
  });
  server.on('connection', () => void state.connections++);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** An unsigned JWT with the given claims: enough for expiry reading, which never verifies. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}.${Buffer.from('sig-' + Math.random()).toString('base64url')}`;
}
