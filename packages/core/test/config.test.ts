import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, createTokenClient, ErrorCode } from '../src/index.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 200, { access_token: 'from-env', token_type: 'Bearer', expires_in: 60 }));
});
afterAll(() => server.close());

function configError(env: Record<string, string>): ConfigError {
  try {
    configFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configFromEnv', () => {
  it('builds a working client for the client_credentials grant', async () => {
    const config = configFromEnv({
      PRODO_AUTH_GRANT: 'client_credentials',
      PRODO_AUTH_TOKEN_URL: `${server.url}/token`,
      PRODO_AUTH_CLIENT_ID: 'svc',
      PRODO_AUTH_CLIENT_SECRET: 'env-secret-value',
      PRODO_AUTH_CLIENT_AUTH: 'client_secret_post',
      PRODO_AUTH_SCOPE: 'a b',
      PRODO_AUTH_API_URL: 'https://api.example.com',
    });
    expect(config.mode).toBe('service');
    expect(config.apiUrl).toBe('https://api.example.com');
    const client = createTokenClient(config);
    expect(await client.getAccessToken()).toBe('from-env');
    expect(server.requests.at(-1)?.params).toMatchObject({ client_id: 'svc', client_secret: 'env-secret-value', scope: 'a b' });
    await client.close();
  });

  it('names every missing variable of the chosen grant in one error', () => {
    const error = configError({ PRODO_AUTH_GRANT: 'password', PRODO_AUTH_CLIENT_ID: 'x' });
    expect(error.code).toBe(ErrorCode.CONFIG);
    expect(error.issues.map((i) => i.path).sort()).toEqual([
      'PRODO_AUTH_PASSWORD',
      'PRODO_AUTH_TOKEN_URL',
      'PRODO_AUTH_USERNAME',
    ]);
  });

  it('rejects unknown values and never prints any value', () => {
    const secret = 'hunter2-super-secret';
    const error = configError({
      PRODO_AUTH_GRANT: 'magic',
      PRODO_AUTH_CLIENT_AUTH: 'telepathy',
      PRODO_AUTH_TOKEN_URL: secret,
      PRODO_AUTH_REDIS_URL: `http://${secret}`,
      PRODO_AUTH_SESSION_SECRET: 'short',
    });
    expect(error.issues.map((i) => i.path).sort()).toEqual([
      'PRODO_AUTH_CLIENT_AUTH',
      'PRODO_AUTH_GRANT',
      'PRODO_AUTH_REDIS_URL',
      'PRODO_AUTH_SESSION_SECRET',
      'PRODO_AUTH_TOKEN_URL',
    ]);
    for (const text of [error.message, error.stack ?? '', inspect(error), JSON.stringify(error)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('telepathy');
    }
  });

  it('maps grant validation to variable names (plain http off loopback is refused)', () => {
    const error = configError({
      PRODO_AUTH_GRANT: 'password',
      PRODO_AUTH_TOKEN_URL: 'http://auth.example.com/token',
      PRODO_AUTH_CLIENT_ID: 'app',
      PRODO_AUTH_USERNAME: 'u',
      PRODO_AUTH_PASSWORD: 'p',
    });
    expect(error.issues).toEqual([{ path: 'PRODO_AUTH_TOKEN_URL', message: expect.stringContaining('https') }]);
  });

  it('defaults to the static grant when only a token is given, and user mode for authorization_code', () => {
    expect(configFromEnv({ PRODO_AUTH_TOKEN: 'Bearer abc.def' }).grant.type).toBe('static');
    const user = configFromEnv({
      PRODO_AUTH_GRANT: 'authorization_code',
      PRODO_AUTH_AUTHORIZE_URL: 'https://id.example.com/authorize',
      PRODO_AUTH_TOKEN_URL: 'https://id.example.com/token',
      PRODO_AUTH_CLIENT_ID: 'web',
      PRODO_AUTH_REDIRECT_URI: 'https://app.example.com/auth/callback',
      PRODO_AUTH_SESSION_SECRET: 'x'.repeat(40),
    });
    expect(user.mode).toBe('user');
    expect(user.sessionSecret).toBe('x'.repeat(40));
    expect(Object.keys(user)).not.toContain('sessionSecret');
    expect(JSON.stringify(user)).not.toContain('x'.repeat(40));
  });

  it('reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      process.env.PRODO_AUTH_GRANT = 'static';
      process.env.PRODO_AUTH_TOKEN = 'from-process-env';
      expect(configFromEnv().grant.type).toBe('static');
    } finally {
      process.env = saved;
    }
  });
});

describe('configFromEnv with PRODO_AUTH_PRESET', () => {
  it('targets each vendor simulator with no code but the environment', async () => {
    const { startMockServer } = await import('@prodo-auth/mock-server');
    const cases: Array<[string, (s: Awaited<ReturnType<typeof startMockServer>>) => Record<string, string>, string]> = [
      ['prodoscore', (s) => ({ PRODO_AUTH_TOKEN_URL: s.tokenUrl }), '/api/x'],
      ['bio-prodict', (s) => ({ PRODO_AUTH_TOKEN_URL: s.tokenUrl }), '/api/x'],
      ['procurios', (s) => ({ PRODO_AUTH_TOKEN_URL: s.tokenUrl, PRODO_AUTH_SCOPE: 'profile' }), '/l/module_api/object'],
      ['petrosoft', (s) => ({ PRODO_AUTH_BASE_URL: s.url }), '/v1/items'],
    ];
    for (const [vendor, env, path] of cases) {
      const server = await startMockServer({ vendor: vendor as 'prodoscore' });
      const creds = server.credentials as unknown as Record<string, string>;
      try {
        const config = configFromEnv({
          PRODO_AUTH_PRESET: vendor,
          PRODO_AUTH_CLIENT_ID: creds.clientId ?? '',
          PRODO_AUTH_CLIENT_SECRET: creds.clientSecret ?? '',
          PRODO_AUTH_USERNAME: creds.username ?? creds.login ?? '',
          PRODO_AUTH_PASSWORD: creds.password ?? '',
          PRODO_AUTH_API_URL: server.apiUrl,
          ...env(server),
        });
        const client = createTokenClient(config);
        const res = await client.fetch(path);
        await client.close();
        expect([vendor, res.status]).toEqual([vendor, 200]);
      } finally {
        await server.close();
      }
    }
  });

  it('names what a preset needs, and the grants it supports', () => {
    expect(configError({ PRODO_AUTH_PRESET: 'petrosoft' }).issues.map((i) => i.path).sort()).toEqual([
      'PRODO_AUTH_BASE_URL',
      'PRODO_AUTH_PASSWORD',
      'PRODO_AUTH_USERNAME',
    ]);
    expect(configError({ PRODO_AUTH_PRESET: 'procurios', PRODO_AUTH_GRANT: 'password' }).issues[0]).toEqual({
      path: 'PRODO_AUTH_GRANT',
      message: expect.stringContaining('client_credentials, authorization_code'),
    });
    expect(configError({ PRODO_AUTH_PRESET: 'keycloak' }).issues.map((i) => i.path)).toContain('PRODO_AUTH_PRESET');
  });

  it('uses the browser token for prodoscore when only a token is given', () => {
    const config = configFromEnv({ PRODO_AUTH_PRESET: 'prodoscore', PRODO_AUTH_TOKEN: 'Bearer abc' });
    expect(config.grant.type).toBe('static');
    expect(config.apiUrl).toBe('https://api.ag.prodoscore.com');
  });

  it('sends the Procurios media type and uses user mode for its authorization code grant', () => {
    const config = configFromEnv({
      PRODO_AUTH_PRESET: 'procurios',
      PRODO_AUTH_GRANT: 'authorization_code',
      PRODO_AUTH_AUTHORIZE_URL: 'https://procurios.com/l/oauth2/authorize',
      PRODO_AUTH_TOKEN_URL: 'https://procurios.com/l/oauth2/token',
      PRODO_AUTH_CLIENT_ID: 'abc123',
      PRODO_AUTH_CLIENT_SECRET: 'dfe456',
      PRODO_AUTH_REDIRECT_URI: 'https://app.example.com/auth/callback',
      PRODO_AUTH_SESSION_SECRET: 's'.repeat(32),
    });
    expect(config.mode).toBe('user');
    expect(config.apiHeaders).toEqual({ accept: 'application/vnd.procurios.application+json; version=1' });
  });
});
