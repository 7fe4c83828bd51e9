/**
 * The login-flow test harness: a bare node:http app that translates IncomingMessage to a
 * PlainRequest and writes the FlowResult (what every adapter does, with no framework), a cookie-
 * keeping client that plays the browser, and a small authorization server with one user per code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { FlowResult, LoginFlow, PlainRequest, UserAuth } from '../../src/adapter.js';

/** The adapter, in full: convert in, write out. */
export function toPlain(req: IncomingMessage): PlainRequest {
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, secure: false };
}

export function write(res: ServerResponse, result: Exclude<FlowResult, { kind: 'continue' }>): void {
  res.setHeader('set-cookie', result.cookies.map((c) => c.header));
  if (result.kind === 'redirect') res.writeHead(result.status, { ...result.headers, location: result.location }).end();
  else res.writeHead(result.status, result.headers).end(result.body);
}

export type AppRoute = (auth: UserAuth, req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface App {
  url: string;
  close(): Promise<void>;
}

/** A node:http app: the flow first, then `route` for everything else; `/private` requires login. */
export async function startApp(flow: LoginFlow, route: AppRoute, port = 0): Promise<App> {
  const server: Server = createServer(async (req, res) => {
    const plain = toPlain(req);
    const result = await flow.handle(plain);
    if (result.kind !== 'continue') return write(res, result);
    res.setHeader('set-cookie', result.cookies.map((c) => c.header));
    if (req.url?.startsWith('/private')) {
      const denied = flow.requireLogin(plain, result.auth);
      if (denied !== undefined) return write(res, denied as Exclude<FlowResult, { kind: 'continue' }>);
    }
    try {
      await route(result.auth, req, res);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String((error as Error).name) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  location: string | undefined;
  setCookies: string[];
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A browser's cookie jar and requests (no redirects followed: tests follow them by hand). */
export class Browser {
  readonly jar: Map<string, string> = new Map();

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = this.cookieHeader();
    if (cookie !== '' && new URL(url).host === this.host) headers.cookie = cookie;
    const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers, body: init.body });
    const body = await res.body.text();
    const raw = res.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (new URL(url).host === this.host) {
      for (const line of setCookies) {
        const [pair = ''] = line.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq);
        if (/max-age=0/i.test(line)) this.jar.delete(name);
        else this.jar.set(name, pair.slice(eq + 1));
      }
    }
    const location = res.headers.location;
    return { status: res.statusCode, location: location === undefined ? undefined : String(location), setCookies, headers: res.headers, body };
  }

  constructor(readonly host: string) {}

  /** Login through `appUrl/auth/login`, the authorization server's page, and the callback; returns the callback reply. */
  async login(appUrl: string, returnTo?: string): Promise<Reply> {
    const start = await this.send(`${appUrl}/auth/login${returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`}`);
    if (start.status !== 302) throw new Error(`login answered ${start.status}`);
    const authorized = await this.send(start.location!);
    if (authorized.status !== 302) throw new Error(`authorize answered ${authorized.status}`);
    return this.send(authorized.location!);
  }
}

export interface TestAuthServer {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  /** The user the authorize endpoint signs in next. */
  nextUser: string;
  /** Access token lifetime, in seconds. */
  expiresIn: number;
  /** Answer token requests with a 503 (the token endpoint down). */
  down: boolean;
  /** `POST /revoke` (RFC 7009): revoked refresh tokens stop working; each request recorded. */
  revocationUrl: string;
  /** Answer revocation requests with a 503 (the revocation endpoint down). */
  revocationDown: boolean;
  /** The revocation requests received: their token_type_hint, and whether the client authenticated. */
  revocations(): Array<{ hint: string | undefined; authenticated: boolean; known: boolean }>;
  /** Requests for its discovery document (`/.well-known/openid-configuration`, issuer = `url`). */
  discoveries(): number;
  /** Token requests received, by grant_type. */
  tokenRequests(grantType?: string): number;
  close(): Promise<void>;
}

/**
 * An authorization server for the rule tests, on 127.0.0.1: its authorize endpoint approves at
 * once as `nextUser` (or answers `error=` when `nextUser` is `!denied`), its token endpoint
 * exchanges codes (PKCE checked, each once) and rotates refresh tokens, and `/api/me` says whose
 * token it was given.
 */
export async function startAuthServer(): Promise<TestAuthServer> {
  const codes = new Map<string, { user: string; challenge: string }>();
  const refresh = new Map<string, string>();
  const access = new Map<string, string>();
  const grants: string[] = [];
  const revocations: Array<{ hint: string | undefined; authenticated: boolean; known: boolean }> = [];
  let n = 0;
  let discoveries = 0;
  const state = { nextUser: 'alice', expiresIn: 3600, down: false, revocationDown: false } as TestAuthServer;
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const issue = (user: string): Record<string, unknown> => {
    n++;
    const at = `at-${user}-${n}-${randomBytes(6).toString('hex')}`;
    const rt = `rt-${user}-${n}-${randomBytes(6).toString('hex')}`;
    access.set(at, user);
    refresh.set(rt, user);
    return { access_token: at, token_type: 'Bearer', expires_in: state.expiresIn, refresh_token: rt };
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const p = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    if (url.pathname === '/authorize') {
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (state.nextUser === '!denied') {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', '<b>The user said no</b>');
      } else {
        const code = randomBytes(12).toString('hex');
        codes.set(code, { user: state.nextUser, challenge: url.searchParams.get('code_challenge') ?? '' });
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/api/me') {
      const user = access.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
      return user === undefined ? send(res, 401, { error: 'invalid_token' }) : send(res, 200, { user });
    }
    if (url.pathname === '/.well-known/openid-configuration') {
      discoveries++;
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return send(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        revocation_endpoint: `${base}/revoke`,
      });
    }
    if (url.pathname === '/revoke') {
      // The login flow's client authenticates with client_secret_basic (the grant's default).
      const authenticated = req.headers.authorization === `Basic ${Buffer.from('web:web-secret').toString('base64')}`;
      const known = refresh.has(p.token ?? '') || access.has(p.token ?? '');
      revocations.push({ hint: p.token_type_hint, authenticated, known });
      if (state.revocationDown) return void res.writeHead(503).end();
      if (!authenticated) return send(res, 401, { error: 'invalid_client' });
      refresh.delete(p.token ?? '');
      access.delete(p.token ?? '');
      return void res.writeHead(200).end();
    }
    if (url.pathname !== '/token') return send(res, 404, {});
    grants.push(p.grant_type ?? '');
    if (state.down) return void res.writeHead(503).end();
    if (p.grant_type === 'authorization_code') {
      const code = codes.get(p.code ?? '');
      codes.delete(p.code ?? '');
      if (code === undefined || createHash('sha256').update(p.code_verifier ?? '').digest('base64url') !== code.challenge) {
        return send(res, 400, { error: 'invalid_grant' });
      }
      return send(res, 200, issue(code.user));
    }
    if (p.grant_type === 'refresh_token') {
      const user = refresh.get(p.refresh_token ?? '');
      refresh.delete(p.refresh_token ?? '');
      if (user === undefined) return send(res, 400, { error: 'invalid_grant' });
      await new Promise((r) => setTimeout(r, 20));
      return send(res, 200, issue(user));
    }
    return send(res, 400, { error: 'unsupported_grant_type' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(state, {
    url: base,
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    revocationUrl: `${base}/revoke`,
    revocations: () => [...revocations],
    discoveries: () => discoveries,
    apiUrl: base,
    tokenRequests: (grantType?: string) => grants.filter((g) => grantType === undefined || g === grantType).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return state;
}
