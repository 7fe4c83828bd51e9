/**
 * The network for the outbound tests: a token server, a protected API on its own origin, and an
 * unrelated host on a third origin. All real HTTP on 127.0.0.1; state is reset between tests.
 */
import type { ServerResponse } from 'node:http';
import {
  createTokenClient,
  passwordGrant,
  procurios,
  type TokenClient,
  type TokenClientOptions,
} from '../../src/index.js';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.js';
import { json, startServer, type Handler, type RecordedRequest, type TestServer } from '../helpers/token-server.js';

/** The Bearer token a request carried, if any. */
export function bearer(req: RecordedRequest): string | undefined {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

/** Answers like an API that does not accept the token (RFC 6750 section 3.1). */
export function rejectToken(res: ServerResponse, status = 401): void {
  res.writeHead(status, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'text/plain' });
  res.end('token rejected');
}

/** The protected API: for a live token, what it received; otherwise a 401 with an invalid_token challenge. */
export function protectedApi(live: Set<string>): Handler {
  return (req, res) => {
    const token = bearer(req);
    if (token === undefined || !live.has(token)) {
      rejectToken(res);
      return;
    }
    json(res, 200, { path: req.path, token, accept: req.headers.accept ?? null, body: req.body });
  };
}

/** Waits until a condition holds, polling. */
export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Network {
  auth: OAuthServer;
  /** The protected API; the clients' apiUrl. */
  api: TestServer;
  /** Another origin, which must never see a token. */
  other: TestServer;
  /** A password-grant client for `api`, closed after the test. */
  client(extra?: Partial<TokenClientOptions>): TokenClient;
  /** A Procurios client-credentials client for `api` (API header: the Procurios media type). */
  procuriosClient(): TokenClient;
  /** Token requests made since the test began. */
  tokenRequests(): number;
  /** Back to a clean state: call in beforeEach. */
  reset(): void;
  /** Closes the clients of the test: call in afterEach. */
  closeClients(): Promise<void>;
  close(): Promise<void>;
}

export async function startNetwork(): Promise<Network> {
  const auth = await startOAuthServer();
  const api = await startServer(protectedApi(auth.live));
  const other = await startServer((req, res) => json(res, 200, { path: req.path }));
  const clients: TokenClient[] = [];
  const track = (c: TokenClient): TokenClient => {
    clients.push(c);
    return c;
  };
  return {
    auth,
    api,
    other,
    client: (extra = {}) =>
      track(
        createTokenClient({
          grant: passwordGrant({ tokenUrl: auth.tokenUrl, clientId: 'app', username: 'alice', password: 'wonderland' }),
          apiUrl: api.url,
          retry: { retries: 0 },
          ...extra,
        }),
      ),
    procuriosClient: () => {
      // The helper server knows password and refresh grants; Procurios servers use client credentials.
      auth.override = (req, res) => {
        if (req.params.grant_type !== 'client_credentials') return false;
        const accessToken = `cc-${auth.raw.requests.length}-${Math.random().toString(36).slice(2)}`;
        auth.live.add(accessToken);
        json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 });
        return true;
      };
      const options = procurios.clientCredentials({
        tokenUrl: auth.tokenUrl,
        clientId: 'svc',
        clientSecret: 'procurios-secret',
        scope: 'profile',
        apiUrl: api.url,
      });
      return track(createTokenClient({ ...options, retry: { retries: 0 } }));
    },
    tokenRequests: () => auth.tokenRequests().length,
    reset: () => {
      auth.raw.requests.length = 0;
      auth.live.clear();
      auth.override = undefined;
      auth.options.delayMs = 0;
      for (const s of [api, other]) s.requests.length = 0;
      api.handler = protectedApi(auth.live);
      other.handler = (req, res) => json(res, 200, { path: req.path });
    },
    closeClients: async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
    close: async () => {
      await Promise.all([auth.close(), api.close(), other.close()]);
    },
  };
}

/**
 * An API handler that holds every request carrying `token` until `n` of them arrived, then
 * revokes the token and rejects them all at once (the 401 herd); other tokens get the API.
 */
export function herdHandler(live: Set<string>, token: string, n: number): Handler & { held: ServerResponse[] } {
  const held: ServerResponse[] = [];
  const api = protectedApi(live);
  const handler: Handler = (req, res) => {
    if (bearer(req) !== token) return api(req, res);
    held.push(res);
    if (held.length === n) {
      live.delete(token);
      for (const r of held) rejectToken(r);
    }
  };
  return Object.assign(handler, { held });
}
