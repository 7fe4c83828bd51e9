/**
 * Option validation at construction, for every factory: misspelled keys, credentials inside URLs,
 * empty values where one is needed, and what must keep passing (presets spread into
 * createTokenClient, configFromEnv output, client authentication values by shape).
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  bioProdict,
  clientCredentialsGrant,
  clientSecretBasic,
  clientSecretPost,
  createTokenClient,
  ErrorCode,
  isProdoAuthError,
  jsonLoginGrant,
  memoryStore,
  passwordGrant,
  petrosoft,
  procurios,
  prodoscore,
  SecretSet,
  staticTokenGrant,
  type ClientAuthentication,
  type ConfigError,
} from '../src/index.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

const SECRET = 'Sup3r-s3cret-never-printed';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 200, { access_token: 'opt-token', token_type: 'Bearer', expires_in: 60 }));
});
afterAll(() => server.close());

/** Runs `build`, which must throw a ConfigError (by code, as across copies), and checks no secret leaks. */
function configError(build: () => unknown, ...hidden: string[]): ConfigError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(isProdoAuthError(thrown)).toBe(true);
  const error = thrown as ConfigError;
  expect(error.code).toBe(ErrorCode.CONFIG);
  for (const text of [error.message, error.stack ?? '', inspect(error, { showHidden: true, depth: 10 }), JSON.stringify(error)]) {
    for (const value of [SECRET, ...hidden]) expect(text).not.toContain(value);
  }
  return error;
}

const issue = (error: ConfigError, path: string): string | undefined => error.issues.find((i) => i.path === path)?.message;

const grantBase = { tokenUrl: 'https://auth.example.com/token', clientId: 'app', username: 'u', password: SECRET };
const jsonBase = { tokenUrl: 'https://auth.example.com/login', username: 'u', password: SECRET };
const codeBase = {
  authorizeUrl: 'https://id.example.com/authorize',
  tokenUrl: 'https://id.example.com/token',
  clientId: 'web',
  redirectUri: 'https://app.example.com/cb',
};
const grant = passwordGrant(grantBase);

describe('unknown option keys are refused, naming the nearest known one', () => {
  // [factory, build with a misspelled key, the key, the suggestion]
  const cases: Array<[string, () => unknown, string, string]> = [
    ['passwordGrant', () => passwordGrant({ ...grantBase, scopes: 'a' } as never), 'scopes', 'scope'],
    ['clientCredentialsGrant', () => clientCredentialsGrant({ ...grantBase, clientSecret: SECRET, client_auth: 'none' } as never), 'client_auth', 'clientAuth'],
    ['authorizationCodeGrant', () => authorizationCodeGrant({ ...codeBase, redirectUrl: 'https://x.example/cb' } as never), 'redirectUrl', 'redirectUri'],
    ['jsonLoginGrant', () => jsonLoginGrant({ ...jsonBase, refreshURL: 'https://x.example/r' } as never), 'refreshURL', 'refreshUrl'],
    ['staticTokenGrant', () => staticTokenGrant({ token: 'abc', expiresAT: 5 } as never), 'expiresAT', 'expiresAt'],
    ['createAuthorizationRequest', () => authorizationCodeGrant(codeBase).createAuthorizationRequest({ State: 'x' } as never), 'State', 'state'],
    ['createTokenClient', () => createTokenClient({ grant, apiURL: 'https://api.example.com' } as never), 'apiURL', 'apiUrl'],
    ['createTokenClient', () => createTokenClient({ grant, retry: { retires: 1 } } as never), 'retry.retires', 'retries'],
    ['prodoscore', () => prodoscore({ clientId: 'c', username: 'u', password: SECRET, apiURL: 'https://x.example' } as never), 'apiURL', 'apiUrl'],
    ['prodoscore.browserToken', () => prodoscore.browserToken('abc', { apiURL: 'https://x.example' } as never), 'apiURL', 'apiUrl'],
    ['bioProdict', () => bioProdict({ clientId: 'c', clientSecret: SECRET, username: 'u', password: SECRET, two_factor: '1' } as never), 'two_factor', 'twoFactor'],
    ['procurios.clientCredentials', () => procurios.clientCredentials({ tokenUrl: codeBase.tokenUrl, clientId: 'c', clientSecret: SECRET, scopes: 'a' } as never), 'scopes', 'scope'],
    ['procurios.authorizationCode', () => procurios.authorizationCode({ ...codeBase, clientSecret: SECRET, redirectURL: 'x' } as never), 'redirectURL', 'redirectUri'],
    ['petrosoft', () => petrosoft({ login: 'l', password: SECRET, baseURL: 'https://x.example' } as never), 'baseURL', 'baseUrl'],
  ];
  for (const [factory, build, key, suggestion] of cases) {
    it(`${factory} refuses ${key} and suggests ${suggestion}`, () => {
      const message = issue(configError(build), key);
      expect(message).toContain(`is not an option of ${factory}`);
      expect(message).toContain(`did you mean ${suggestion}?`);
    });
  }

  it('suggests nothing when no known option is close', () => {
    const error = configError(() => passwordGrant({ ...grantBase, audience: 'x' } as never));
    expect(error.issues).toEqual([{ path: 'audience', message: 'is not an option of passwordGrant(...)' }]);
  });

  it('accepts any key whose value is undefined', () => {
    expect(() => passwordGrant({ ...grantBase, notAnOption: undefined } as never)).not.toThrow();
  });

  it('keeps preset options spread into createTokenClient with more options working', async () => {
    const store = memoryStore();
    const client = createTokenClient({ ...prodoscore({ clientId: 'c', username: 'u', password: SECRET, tokenUrl: `${server.url}/t` }), store, retry: { retries: 0 } });
    expect(await client.getAccessToken()).toBe('opt-token');
    await client.close();
    for (const options of [
      procurios.authorizationCode({ ...codeBase, clientSecret: SECRET }),
      procurios.clientCredentials({ tokenUrl: codeBase.tokenUrl, clientId: 'c', clientSecret: SECRET }),
      bioProdict({ clientId: 'c', clientSecret: SECRET, username: 'u', password: SECRET }),
      petrosoft({ login: 'l', password: SECRET, baseUrl: 'https://p.example' }),
      prodoscore.browserToken('abc'),
    ]) {
      await createTokenClient({ ...options, store, timeoutMs: 1000 }).close();
    }
  });
});

describe('a URL option with credentials in it is refused without showing the URL', () => {
  const withUserinfo = `https://admin:${SECRET}@host.example.com/path`;
  const cases: Array<[string, () => unknown]> = [
    ['tokenUrl', () => passwordGrant({ ...grantBase, tokenUrl: withUserinfo })],
    ['authorizeUrl', () => authorizationCodeGrant({ ...codeBase, authorizeUrl: withUserinfo })],
    ['redirectUri', () => authorizationCodeGrant({ ...codeBase, redirectUri: withUserinfo })],
    ['refreshUrl', () => jsonLoginGrant({ ...jsonBase, refreshUrl: withUserinfo })],
    ['apiUrl', () => createTokenClient({ grant, apiUrl: withUserinfo })],
    ['apiUrl', () => prodoscore({ clientId: 'c', username: 'u', password: 'p', apiUrl: withUserinfo })],
    ['baseUrl', () => petrosoft({ login: 'l', password: 'p', baseUrl: withUserinfo })],
    ['apiUrl', () => petrosoft({ login: 'l', password: 'p', baseUrl: 'https://p.example', apiUrl: withUserinfo })],
    ['redirectUri', () => procurios.authorizationCode({ ...codeBase, clientSecret: 's', redirectUri: withUserinfo })],
  ];
  for (const [path, build] of cases) {
    it(`${path}: user:pass@host is a ConfigError naming ${path}`, () => {
      const error = configError(build, withUserinfo, 'admin:');
      expect(issue(error, path)).toMatch(/must not contain a user name or password/);
    });
  }

  it('a user name alone is refused too', () => {
    const error = configError(() => passwordGrant({ ...grantBase, tokenUrl: 'https://someone@auth.example.com/token' }), 'someone@');
    expect(error.issues.map((i) => i.path)).toEqual(['tokenUrl']);
  });
});

describe('empty values where one is needed are refused', () => {
  it("createAuthorizationRequest({ state: '' }) is a ConfigError instead of a login without state", () => {
    const g = authorizationCodeGrant(codeBase);
    for (const state of ['', '   ']) {
      expect(issue(configError(() => g.createAuthorizationRequest({ state })), 'state')).toMatch(/must not be empty/);
    }
    const url = new URL(g.createAuthorizationRequest({ state: 'given-state' }).url);
    expect(url.searchParams.get('state')).toBe('given-state');
  });

  it('blank ids, user names, scopes and store keys name their field', () => {
    expect(configError(() => passwordGrant({ ...grantBase, clientId: '  ', username: '\t' })).issues.map((i) => i.path).sort()).toEqual([
      'clientId',
      'username',
    ]);
    expect(configError(() => passwordGrant({ ...grantBase, scope: ' ' })).issues[0]?.path).toBe('scope');
    expect(configError(() => passwordGrant({ ...grantBase, scope: ['a', ''] })).issues[0]?.path).toBe('scope.1');
    expect(configError(() => createTokenClient({ grant, storeKey: '' })).issues[0]?.path).toBe('storeKey');
    expect(configError(() => authorizationCodeGrant({ ...codeBase, redirectUriParam: '' })).issues[0]?.path).toBe('redirectUriParam');
  });

  it('clientSecretBasic and clientSecretPost refuse a missing secret instead of sending "undefined"', () => {
    expect(configError(() => clientSecretBasic('app', '')).issues).toEqual([{ path: 'clientSecret', message: 'is required' }]);
    expect(configError(() => clientSecretPost('', SECRET)).issues.map((i) => i.path)).toEqual(['clientId']);
  });

  it('options that are not an object are one issue, not a crash', () => {
    expect(configError(() => passwordGrant(undefined as never)).issues).toEqual([
      { path: '(options)', message: 'must be an options object: passwordGrant({ ... })' },
    ]);
  });
});

describe('kept checks', () => {
  it('plain http off loopback is refused for every endpoint unless dangerouslyAllowInsecureHttp', () => {
    const http = 'http://auth.example.com/x';
    expect(configError(() => jsonLoginGrant({ ...jsonBase, refreshUrl: http })).issues.map((i) => i.path)).toEqual(['refreshUrl']);
    expect(configError(() => authorizationCodeGrant({ ...codeBase, authorizeUrl: http, tokenUrl: http })).issues.map((i) => i.path)).toEqual([
      'authorizeUrl',
      'tokenUrl',
    ]);
    expect(configError(() => createTokenClient({ grant, apiUrl: http })).issues[0]?.message).toMatch(/dangerouslyAllowInsecureHttp/);
    expect(() => createTokenClient({ grant, apiUrl: http, dangerouslyAllowInsecureHttp: true })).not.toThrow();
    expect(() => authorizationCodeGrant({ ...codeBase, redirectUri: 'http://app.example.com/cb' })).not.toThrow();
  });

  it("client_secret_post without a secret names clientSecret, and scope arrays are joined", async () => {
    expect(configError(() => passwordGrant({ ...grantBase, clientAuth: 'client_secret_post' })).issues).toEqual([
      { path: 'clientSecret', message: "is required with clientAuth 'client_secret_post'" },
    ]);
    const client = createTokenClient({ grant: passwordGrant({ ...grantBase, tokenUrl: `${server.url}/token`, scope: ['a', 'b'] }) });
    await client.getAccessToken();
    await client.close();
    expect(server.requests.at(-1)?.params.scope).toBe('a b');
  });

  it('accepts a client authentication value recognised by its shape, not its class (another copy of core)', async () => {
    const foreign: ClientAuthentication = {
      method: 'client_secret_post',
      clientId: 'foreign',
      secrets: new SecretSet().add(SECRET),
      apply({ params }) {
        params.set('client_id', 'foreign');
        params.set('client_secret', SECRET);
      },
    };
    const client = createTokenClient({ grant: passwordGrant({ ...grantBase, tokenUrl: `${server.url}/token`, clientAuth: foreign }) });
    await client.getAccessToken();
    await client.close();
    expect(server.requests.at(-1)?.params).toMatchObject({ client_id: 'foreign', client_secret: SECRET });
    expect(issue(configError(() => passwordGrant({ ...grantBase, clientAuth: { method: 'x' } as never })), 'clientAuth')).toMatch(
      /client authentication value/,
    );
  });
});
