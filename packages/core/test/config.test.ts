import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, createTokenClient, ErrorCode, type ProdoAuthConfig } from '../src/index.js';
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

const paths = (error: ConfigError): string[] => error.issues.map((i) => i.path).sort();

const userModeEnv = {
  PRODO_AUTH_GRANT: 'authorization_code',
  PRODO_AUTH_AUTHORIZE_URL: 'https://id.example.com/authorize',
  PRODO_AUTH_TOKEN_URL: 'https://id.example.com/token',
  PRODO_AUTH_CLIENT_ID: 'web',
  PRODO_AUTH_REDIRECT_URI: 'https://app.example.com/auth/callback',
  PRODO_AUTH_SESSION_SECRET: 'x'.repeat(40),
};

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

  it('refuses unknown PRODO_AUTH_* variables by name, with the nearest known one, never the value', () => {
    const secret = 'misspelled-secret-value';
    const error = configError({
      PRODO_AUTH_GRANT: 'static',
      PRODO_AUTH_TOKEN: 'abc',
      PRODO_AUTH_CLIENTSECRET: secret,
      PRODO_AUTH_API_URI: 'https://api.example.com',
      PRODO_AUTH_FLAVOUR: 'x',
      OTHER_VARIABLE: 'ignored',
    });
    expect(error.code).toBe(ErrorCode.CONFIG);
    expect(error.issues).toEqual([
      { path: 'PRODO_AUTH_CLIENTSECRET', message: 'is not a prodo-auth variable; did you mean PRODO_AUTH_CLIENT_SECRET?' },
      { path: 'PRODO_AUTH_API_URI', message: 'is not a prodo-auth variable; did you mean PRODO_AUTH_API_URL?' },
      { path: 'PRODO_AUTH_FLAVOUR', message: 'is not a prodo-auth variable' },
    ]);
    for (const text of [error.message, inspect(error, { showHidden: true }), JSON.stringify(error)]) expect(text).not.toContain(secret);
  });

  it('refuses URL variables with credentials in them without printing them', () => {
    const error = configError({ PRODO_AUTH_TOKEN: 'abc', PRODO_AUTH_API_URL: 'https://user:url-password-1@api.example.com' });
    expect(error.issues).toEqual([{ path: 'PRODO_AUTH_API_URL', message: expect.stringContaining('must not contain a user name or password') }]);
    expect(inspect(error, { showHidden: true })).not.toContain('url-password-1');
    expect(paths(configError({ ...userModeEnv, PRODO_AUTH_REDIRECT_URI: 'https://u:p@app.example.com/cb' }))).toEqual(['PRODO_AUTH_REDIRECT_URI']);
  });

  it('keeps redisUrl (and its password) off enumerable fields, inspect and JSON, readable as a property', () => {
    const redisUrl = 'rediss://default:redis-password-9@cache.example.com:6380';
    const config = configFromEnv({ ...userModeEnv, PRODO_AUTH_REDIS_URL: redisUrl });
    expect(config.redisUrl).toBe(redisUrl);
    expect(config.sessionSecret).toBe('x'.repeat(40));
    expect(Object.keys(config)).not.toContain('redisUrl');
    expect({ ...config }).not.toHaveProperty('redisUrl');
    for (const text of [JSON.stringify(config), inspect(config, { showHidden: true, depth: 10 })]) {
      expect(text).not.toContain('redis-password-9');
      expect(text).not.toContain('x'.repeat(40));
    }
  });

  it('createTokenClient(configFromEnv()) accepts the adapter fields configFromEnv adds', async () => {
    const config = configFromEnv({ ...userModeEnv, PRODO_AUTH_REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(Object.keys(config)).toEqual(expect.arrayContaining(['mode', 'redirectUri']));
    await createTokenClient(config).close();
    // Someone who copies the hidden fields back onto a spread gets them accepted too.
    const copied: ProdoAuthConfig = { ...config, sessionSecret: config.sessionSecret, redisUrl: config.redisUrl };
    await createTokenClient(copied).close();
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
    // Paths under each simulator's API URL (which PRODO_AUTH_API_URL points at, for petrosoft too).
    const cases: Array<[string, (s: Awaited<ReturnType<typeof startMockServer>>) => Record<string, string>, string]> = [
      ['prodoscore', (s) => ({ PRODO_AUTH_TOKEN_URL: s.tokenUrl }), '/x'],
      ['bio-prodict', (s) => ({ PRODO_AUTH_TOKEN_URL: s.tokenUrl }), '/x'],
      ['procurios', (s) => ({ PRODO_AUTH_TOKEN_URL: s.tokenUrl, PRODO_AUTH_SCOPE: 'profile' }), '/object'],
      ['petrosoft', (s) => ({ PRODO_AUTH_BASE_URL: s.url }), '/items'],
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
        expect([vendor, config.apiUrl]).toEqual([vendor, server.apiUrl]);
        const client = createTokenClient(config);
        const res = await client.fetch(`${server.apiUrl}${path}`);
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

  it('an unknown preset is one issue, not also a missing grant and its variables', () => {
    expect(configError({ PRODO_AUTH_PRESET: 'keycloak' }).issues).toEqual([
      { path: 'PRODO_AUTH_PRESET', message: 'must be one of prodoscore, bio-prodict, procurios, petrosoft' },
    ]);
    expect(configError({ PRODO_AUTH_PRESET: 'toString' }).issues.map((i) => i.path)).toEqual(['PRODO_AUTH_PRESET']);
  });

  it('petrosoft honours PRODO_AUTH_API_URL, and defaults apiUrl to BASE_URL', () => {
    const env = { PRODO_AUTH_PRESET: 'petrosoft', PRODO_AUTH_BASE_URL: 'https://auth.petrosoft.example/', PRODO_AUTH_USERNAME: 'l', PRODO_AUTH_PASSWORD: 'p' };
    expect(configFromEnv(env).apiUrl).toBe('https://auth.petrosoft.example');
    expect(configFromEnv({ ...env, PRODO_AUTH_API_URL: 'https://api.petrosoft.example/v1' }).apiUrl).toBe('https://api.petrosoft.example/v1');
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
