/**
 * The token client tests' shared setup: a fresh OAuth server on 127.0.0.1 per test, password-grant
 * clients against it (closed after each test), and a clock moved by hand (Date only; timers and
 * sockets run in real time).
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { createTokenClient, passwordGrant, type TokenClient, type TokenClientOptions } from '../../src/index.js';
import { startOAuthServer, type OAuthServer } from './oauth-server.js';

export interface PasswordClients {
  /** This test's server. */
  readonly server: OAuthServer;
  /** A client for alice's password grant, with no retries; `extra` overrides any option. */
  client(extra?: Partial<TokenClientOptions>): TokenClient;
  /** Moves the clock forward (Date only). */
  advance(ms: number): void;
}

/** Registers the beforeEach/afterEach hooks of the calling test file and returns its handles. */
export function usePasswordClients(): PasswordClients {
  let server: OAuthServer | undefined;
  const clients: TokenClient[] = [];
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    server = await startOAuthServer();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    vi.useRealTimers();
  });
  const handles: PasswordClients = {
    get server(): OAuthServer {
      if (server === undefined) throw new Error('usePasswordClients: the server starts in beforeEach');
      return server;
    },
    client(extra = {}) {
      const c = createTokenClient({
        grant: passwordGrant({ tokenUrl: handles.server.tokenUrl, clientId: 'app', username: 'alice', password: 'wonderland' }),
        apiUrl: handles.server.apiUrl,
        retry: { retries: 0 },
        ...extra,
      });
      clients.push(c);
      return c;
    },
    advance(ms) {
      vi.setSystemTime(Date.now() + ms);
    },
  };
  return handles;
}
