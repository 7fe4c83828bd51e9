/**
 * A token endpoint that counts every request and behaves like a strict rotating-refresh-token
 * server: each refresh token works once, and presenting one twice revokes its whole family.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface TokenRequest {
  grant: string;
  refreshToken?: string | undefined;
  /** The access token issued in answer, if any. */
  issued?: string | undefined;
  at: number;
}

export interface TokenServer {
  url: string;
  /** The authorization endpoint: approves every request at once. */
  authorizeUrl: string;
  requests: TokenRequest[];
  /** Refresh tokens presented more than once (each one revoked its family). */
  reuses: string[];
  /** Access tokens issued and not revoked. */
  liveAccess: Set<string>;
  lifetimeSeconds: number;
  /** Called before a refresh is answered; the answer waits for it. */
  beforeRefresh: ((request: TokenRequest) => Promise<void>) | undefined;
  close(): Promise<void>;
}

export async function startTokenServer(lifetimeSeconds: number): Promise<TokenServer> {
  let seq = 0;
  const family = new Map<string, number>(); // refresh token -> family
  const used = new Set<string>();
  const revoked = new Set<number>();
  const accessFamily = new Map<string, number>();
  const state: TokenServer = {
    url: '',
    authorizeUrl: '',
    requests: [],
    reuses: [],
    liveAccess: new Set(),
    lifetimeSeconds,
    beforeRefresh: undefined,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const issue = (res: ServerResponse, f: number, request: TokenRequest): void => {
    const n = ++seq;
    const access = `at-${f}-${n}`;
    const refresh = `rt-${f}-${n}`;
    family.set(refresh, f);
    accessFamily.set(access, f);
    state.liveAccess.add(access);
    request.issued = access;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: access, token_type: 'Bearer', expires_in: state.lifetimeSeconds, refresh_token: refresh }));
  };
  const fail = (res: ServerResponse): void => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_grant' }));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // An authorization endpoint that approves at once: back to the client with a code.
    if (req.method === 'GET' && req.url?.startsWith('/authorize')) {
      const q = new URL(req.url, 'http://x').searchParams;
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', `code-${++seq}`);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      res.end();
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const request: TokenRequest = { grant: form.get('grant_type') ?? '', refreshToken: form.get('refresh_token') ?? undefined, at: Date.now() };
      state.requests.push(request);
      if (request.grant === 'password' || request.grant === 'authorization_code') return issue(res, ++seq, request);
      if (request.grant !== 'refresh_token' || request.refreshToken === undefined) return fail(res);
      const rt = request.refreshToken;
      const f = family.get(rt);
      if (f === undefined || revoked.has(f)) return fail(res);
      if (used.has(rt)) {
        state.reuses.push(rt);
        revoked.add(f);
        for (const [a, af] of accessFamily) if (af === f) state.liveAccess.delete(a);
        return fail(res);
      }
      used.add(rt);
      void (state.beforeRefresh?.(request) ?? Promise.resolve()).then(() => issue(res, f, request));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.url = `${origin}/token`;
  state.authorizeUrl = `${origin}/authorize`;
  return state;
}
