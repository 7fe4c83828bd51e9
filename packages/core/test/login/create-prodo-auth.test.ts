/** createProdoAuth: configuration checked at once, service mode's one client and one auth object. */
import { describe, expect, it } from 'vitest';
import { createProdoAuth, type ProdoAuth } from '../../src/adapter.js';
import { authorizationCodeGrant, clientCredentialsGrant, configFromEnv, ErrorCode, type ConfigError } from '../../src/index.js';
import { json, startServer } from '../helpers/token-server.js';

const codeGrant = authorizationCodeGrant({
  authorizeUrl: 'https://as.example/authorize',
  tokenUrl: 'https://as.example/token',
  clientId: 'web',
  clientSecret: 'web-secret',
  redirectUri: 'https://app.example/auth/callback',
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect((error as ConfigError).code).toBe(ErrorCode.CONFIG);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('createProdoAuth configuration', () => {
  it('user mode without a session secret is a ConfigError naming it', () => {
    const e = configError(() => createProdoAuth({ grant: codeGrant }));
    expect(e.issues.map((i) => i.path)).toEqual(['sessionSecret']);
  });

  it('names every problem in one ConfigError, and never prints a secret', () => {
    const short = 'short-secret-value';
    const e = configError(() =>
      createProdoAuth({
        grant: codeGrant,
        sessionSecret: [('x'.repeat(40)), short],
        mountPath: 'auth/',
        idleTimeoutSeconds: -1,
        redirectUri: 'https://app.example/elsewhere',
        timeoutMs: 0,
        storeKey: 'k',
        // @ts-expect-error a misspelled option is refused
        sesionStore: {},
      }),
    );
    expect(e.issues.map((i) => i.path).sort()).toEqual(
      ['idleTimeoutSeconds', 'mountPath', 'redirectUri', 'sesionStore', 'sessionSecret', 'storeKey', 'timeoutMs'].sort(),
    );
    expect(e.message).not.toContain(short);
  });

  it('the redirect URI must reach the callback route', () => {
    const e = configError(() => createProdoAuth({ grant: codeGrant, sessionSecret: 'y'.repeat(32), redirectUri: 'https://app.example/cb' }));
    expect(e.issues).toEqual([{ path: 'redirectUri', message: expect.stringContaining('/auth/callback') }]);
  });

  it("mode 'service' with the authorization code grant, or 'user' with another grant, is refused", () => {
    const cc = clientCredentialsGrant({ tokenUrl: 'https://as.example/token', clientId: 'svc', clientSecret: 's' });
    expect(configError(() => createProdoAuth({ grant: codeGrant, mode: 'service' })).issues[0]?.path).toBe('mode');
    expect(configError(() => createProdoAuth({ grant: cc, mode: 'user', sessionSecret: 'y'.repeat(32) })).issues[0]?.path).toBe('grant');
  });

  it('reads configFromEnv() when called without options (its non-enumerable session secret included)', () => {
    const env = {
      PRODO_AUTH_GRANT: 'authorization_code',
      PRODO_AUTH_AUTHORIZE_URL: 'https://as.example/authorize',
      PRODO_AUTH_TOKEN_URL: 'https://as.example/token',
      PRODO_AUTH_CLIENT_ID: 'web',
      PRODO_AUTH_REDIRECT_URI: 'https://app.example/auth/callback',
      PRODO_AUTH_SESSION_SECRET: 'z'.repeat(32),
    };
    const auth = createProdoAuth(configFromEnv(env));
    expect(auth.mode).toBe('user');
    void auth.close();
    const saved = { ...process.env };
    try {
      for (const k of Object.keys(process.env)) if (k.startsWith('PRODO_AUTH_')) delete process.env[k];
      expect(configError(() => createProdoAuth()).message).toContain('PRODO_AUTH_GRANT');
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it('redisUrl without a store is refused: core has no Redis client', () => {
    const cc = clientCredentialsGrant({ tokenUrl: 'https://as.example/token', clientId: 'svc', clientSecret: 's' });
    expect(configError(() => createProdoAuth({ grant: cc, redisUrl: 'redis://localhost:6379' })).issues[0]?.path).toBe('redisUrl');
  });
});

describe('service mode', () => {
  it('one client, one auth object for every request, and a warm token costs no token request', async () => {
    const server = await startServer((req, res) =>
      req.path === '/api' ? json(res, 200, { auth: req.headers.authorization }) : json(res, 200, { access_token: 'svc-token', token_type: 'bearer', expires_in: 3600 }),
    );
    let auth: ProdoAuth | undefined;
    try {
      auth = createProdoAuth({ grant: clientCredentialsGrant({ tokenUrl: `${server.url}/token`, clientId: 'svc', clientSecret: 's' }), apiUrl: server.url });
      if (auth.mode !== 'service') throw new Error('expected service mode');
      expect(auth.auth.client).toBe(auth.client);
      expect(Object.isFrozen(auth.auth)).toBe(true);
      expect(await auth.auth.getAccessToken()).toBe('svc-token');
      const res = await auth.auth.fetch('/api');
      expect(await res.json()).toEqual({ auth: 'Bearer svc-token' });
      await auth.auth.getAccessToken();
      expect(server.requestsTo('/token')).toHaveLength(1);
    } finally {
      await auth?.close();
      await server.close();
    }
  });
});
