/**
 * A small, strict OAuth token server for the client-rule tests: the password grant, the
 * refresh_token grant with rotation, and a protected API. Real HTTP on 127.0.0.1.
 */
import type { ServerResponse } from 'node:http';
import { json, startServer, type RecordedRequest, type TestServer } from './token-server.js';

export interface OAuthServerOptions {
  /** `expires_in` of access tokens, in seconds; undefined leaves it out. */
  expiresIn?: number | undefined;
  /** `refresh_expires_in`, in seconds. */
  refreshExpiresIn?: number | undefined;
  /** Issue refresh tokens at all. */
  issueRefreshTokens?: boolean;
  /** Rotate refresh tokens: each one works once. */
  rotate?: boolean;
  /** Delay before answering a token request, in ms. */
  delayMs?: number;
}

export interface OAuthServer {
  url: string;
  tokenUrl: string;
  apiUrl: string;
  raw: TestServer;
  options: OAuthServerOptions;
  /** Token requests, by grant_type. */
  tokenRequests(grantType?: string): RecordedRequest[];
  /** Every refresh token the server has received, in order. */
  receivedRefreshTokens(): string[];
  /** The access tokens the API accepts. */
  live: Set<string>;
  /** Replace the answer to the next token requests (return true to say "handled"). */
  override: ((req: RecordedRequest, res: ServerResponse) => boolean | Promise<boolean>) | undefined;
  close(): Promise<void>;
}

export async function startOAuthServer(initial: OAuthServerOptions = {}): Promise<OAuthServer> {
  const options: OAuthServerOptions = { expiresIn: 3600, issueRefreshTokens: true, rotate: true, ...initial };
  const validRefresh = new Set<string>();
  const live = new Set<string>();
  let counter = 0;
  const state = {} as OAuthServer;

  const raw = await startServer(async (req, res) => {
    if (req.path === '/api') {
      const auth = req.headers.authorization ?? '';
      const token = auth.replace(/^Bearer /, '');
      if (!live.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        res.end();
        return;
      }
      json(res, 200, { ok: true, token });
      return;
    }
    if (state.override && (await state.override(req, res))) return;
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    const p = req.params as Record<string, string>;
    if (p.grant_type === 'password') {
      if (p.username !== 'alice' || p.password !== 'wonderland') {
        json(res, 400, { error: 'invalid_grant', error_description: 'Invalid user credentials' });
        return;
      }
    } else if (p.grant_type === 'refresh_token') {
      if (!validRefresh.has(p.refresh_token ?? '')) {
        json(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token' });
        return;
      }
      if (options.rotate) validRefresh.delete(p.refresh_token!);
    } else {
      json(res, 400, { error: 'unsupported_grant_type' });
      return;
    }
    counter++;
    const accessToken = `access-${counter}-${Math.random().toString(36).slice(2)}`;
    live.add(accessToken);
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer' };
    if (options.expiresIn !== undefined) body.expires_in = options.expiresIn;
    if (options.issueRefreshTokens) {
      const refreshToken =
        !options.rotate && p.grant_type === 'refresh_token' ? p.refresh_token! : `refresh-${counter}-${Math.random().toString(36).slice(2)}`;
      validRefresh.add(refreshToken);
      body.refresh_token = refreshToken;
      if (options.refreshExpiresIn !== undefined) body.refresh_expires_in = options.refreshExpiresIn;
    }
    json(res, 200, body);
  });

  Object.assign(state, {
    url: raw.url,
    tokenUrl: `${raw.url}/token`,
    apiUrl: raw.url,
    raw,
    options,
    live,
    override: undefined,
    tokenRequests: (grantType?: string) =>
      raw.requests.filter((r) => r.path === '/token' && (grantType === undefined || r.params.grant_type === grantType)),
    receivedRefreshTokens: () =>
      raw.requests.filter((r) => r.params.grant_type === 'refresh_token').map((r) => String(r.params.refresh_token)),
    close: () => raw.close(),
  });
  return state;
}
