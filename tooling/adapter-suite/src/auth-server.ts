/**
 * A standard authorization server on 127.0.0.1 for the refresh rules, which the Procurios
 * simulator (no refresh tokens) cannot show: its authorize endpoint approves at once as
 * `nextUser`, its token endpoint checks PKCE, spends each code once and rotates refresh tokens,
 * and `/api/me` says whose token it was given.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestAuthServer {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly apiUrl: string;
  /** Who the authorize endpoint signs in next. */
  nextUser: string;
  /** Lifetime of the access tokens it issues, in seconds. */
  expiresIn: number;
  /** The token endpoint answers 503 (down). */
  down: boolean;
  /** Token requests received so far, of any grant. */
  tokenRequests(): number;
  close(): Promise<void>;
}

export async function startAuthServer(): Promise<TestAuthServer> {
  const codes = new Map<string, { user: string; challenge: string }>();
  const refresh = new Map<string, string>();
  const access = new Map<string, string>();
  let count = 0;
  let n = 0;
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };
  const issue = (user: string): Record<string, unknown> => {
    const at = `at-${user}-${++n}-${randomBytes(8).toString('hex')}`;
    const rt = `rt-${user}-${n}-${randomBytes(8).toString('hex')}`;
    access.set(at, user);
    refresh.set(rt, user);
    return { access_token: at, token_type: 'Bearer', expires_in: state.expiresIn, refresh_token: rt };
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    if (url.pathname === '/authorize') {
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      const code = randomBytes(12).toString('hex');
      codes.set(code, { user: state.nextUser, challenge: url.searchParams.get('code_challenge') ?? '' });
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/api/me') {
      const user = access.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
      return user === undefined ? json(res, 401, { error: 'invalid_token' }) : json(res, 200, { user });
    }
    if (url.pathname !== '/token') return json(res, 404, { error: 'not_found' });
    count++;
    if (state.down) return json(res, 503, { error: 'temporarily_unavailable' });
    if (form.get('grant_type') === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (code === undefined || verifier !== code.challenge) return json(res, 400, { error: 'invalid_grant' });
      return json(res, 200, issue(code.user));
    }
    if (form.get('grant_type') === 'refresh_token') {
      const user = refresh.get(form.get('refresh_token') ?? '');
      refresh.delete(form.get('refresh_token') ?? '');
      if (user === undefined) return json(res, 400, { error: 'invalid_grant' });
      // A refresh that takes a moment, so concurrent callers really overlap it.
      await new Promise((r) => setTimeout(r, 20));
      return json(res, 200, issue(user));
    }
    return json(res, 400, { error: 'unsupported_grant_type' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: TestAuthServer = {
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    apiUrl: base,
    nextUser: 'alice',
    expiresIn: 3600,
    down: false,
    tokenRequests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}
