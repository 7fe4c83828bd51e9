/**
 * Discovery (OpenID Connect Discovery 1.0, RFC 8414): an `issuer` fills the endpoints the caller
 * did not set, from a document fetched once through the client's transport, whose `issuer` must
 * be the configured one. Against oidc-provider, and against small servers for the failure rules.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  ConfigError,
  configFromEnv,
  createTokenClient,
  discoveryUrls,
  ErrorCode,
  passwordGrant,
  tlsClientAuth,
  TokenEndpointError,
  Transport,
  type TokenClient,
  type TokenClientOptions,
} from '../src/index.js';
import { API_SCOPE, CLIENTS } from './helpers/oidc-provider.js';
import { type StandardsTestServer, useStandardsServers } from './helpers/oidc-provider-standards.js';
import { makeTestCa } from './helpers/test-ca.js';
import { json, type RecordedRequest, type TestServer } from './helpers/token-server.js';

let op: StandardsTestServer;
let server: TestServer;
const open: TokenClient[] = [];

useStandardsServers(open, (started) => ({ op, server } = started));

function client(options: TokenClientOptions): TokenClient {
  const c = createTokenClient({ timeoutMs: 5000, retry: { retries: 1, minDelayMs: 1, maxDelayMs: 2 }, ...options });
  open.push(c);
  return c;
}

const TOKEN = { access_token: 'at-discovered', token_type: 'Bearer', expires_in: 3600 };

/** A server whose metadata lives under `path` (a Keycloak realm), answering `answer` for its documents. */
function serveMetadata(
  path: string,
  answer: (req: RecordedRequest, issuer: string) => { status: number; body: unknown } | undefined,
): string {
  const issuer = `${server.url}${path}`;
  server.requests.length = 0;
  server.handler = (req, res) => {
    if (req.path === '/token') return json(res, 200, TOKEN);
    const a = answer(req, issuer);
    if (a === undefined) return json(res, 404, { error: 'not_found' });
    json(res, a.status, a.body);
  };
  return issuer;
}

const metadata = (issuer: string): Record<string, unknown> => ({
  issuer,
  token_endpoint: `${server.url}/token`,
  authorization_endpoint: `${server.url}/authorize`,
  revocation_endpoint: `${server.url}/revoke`,
});
const documentGets = (): RecordedRequest[] => server.requests.filter((r) => r.path.includes('/.well-known/'));

describe('discovery against oidc-provider', () => {
  it('gets a token the provider accepts with only issuer, clientId and clientSecret', async () => {
    const c = client({ grant: clientCredentialsGrant({ issuer: op.issuer, ...CLIENTS.basic, scope: API_SCOPE }) });
    const token = await c.getAccessToken();
    expect(await op.provider.ClientCredentials.find(token)).toMatchObject({ clientId: CLIENTS.basic.clientId });
  });

  it("builds the login URL on the provider's authorization endpoint", async () => {
    const grant = authorizationCodeGrant({ issuer: op.issuer, ...CLIENTS.web, redirectUri: op.redirectUri, scope: 'openid' });
    // Not discovered yet: the synchronous builder says what to call instead.
    expect(() => grant.createAuthorizationRequest()).toThrow(ConfigError);
    const transport = new Transport({ timeoutMs: 5000 });
    try {
      const request = await grant.resolveAuthorizationRequest!({ transport });
      expect(request.url.startsWith(`${op.authorizeUrl}?`)).toBe(true);
      // Discovered once, the synchronous builder works too.
      expect(grant.createAuthorizationRequest().url.startsWith(`${op.authorizeUrl}?`)).toBe(true);
      const callback = await op.login(request.url);
      expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    } finally {
      await transport.close();
    }
  });
});

describe('discovery rules', () => {
  it('fetches the document once for many concurrent callers and grants, through the client transport', async () => {
    const issuer = serveMetadata('', (req, iss) => (req.path === '/.well-known/openid-configuration' ? { status: 200, body: metadata(iss) } : undefined));
    const grant = passwordGrant({ issuer, clientId: 'app', username: 'u', password: 'pw-value' });
    // Two clients of one grant (separate stores), asking at the same moment: one discovery between them.
    const [c, d] = [client({ grant }), client({ grant })];
    const tokens = await Promise.all([c, d].flatMap((x) => Array.from({ length: 3 }, () => x.getAccessToken())));
    expect(new Set(tokens)).toEqual(new Set(['at-discovered']));
    await c.invalidate();
    await c.getAccessToken();
    expect(documentGets().map((r) => [r.method, r.path])).toEqual([['GET', '/.well-known/openid-configuration']]);
    expect(server.requestsTo('/token')).toHaveLength(3);
  });

  it('reads a Keycloak realm URL as an issuer: the document under the realm path', async () => {
    const issuer = serveMetadata('/realms/prodo', (req, iss) =>
      req.path === '/realms/prodo/.well-known/openid-configuration' ? { status: 200, body: metadata(iss) } : undefined,
    );
    await expect(client({ grant: passwordGrant({ issuer, clientId: 'app', username: 'u', password: 'pw-value' }) }).getAccessToken()).resolves.toBe(
      'at-discovered',
    );
  });

  it('falls back to the RFC 8414 document (Spring Authorization Server without OIDC) when the OpenID one is 404', async () => {
    const issuer = serveMetadata('/tenant', (req, iss) =>
      req.path === '/.well-known/oauth-authorization-server/tenant' ? { status: 200, body: metadata(iss) } : undefined,
    );
    await client({ grant: passwordGrant({ issuer, clientId: 'app', username: 'u', password: 'pw-value' }) }).getAccessToken();
    expect(documentGets().map((r) => r.path)).toEqual([
      '/tenant/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server/tenant',
    ]);
    expect(discoveryUrls('https://as.example.com/tenant/').map(String)).toEqual([
      'https://as.example.com/tenant/.well-known/openid-configuration',
      'https://as.example.com/.well-known/oauth-authorization-server/tenant',
    ]);
  });

  it('refuses a document for another issuer with a ConfigError, and sends no token request', async () => {
    serveMetadata('', (req) =>
      req.path === '/.well-known/openid-configuration' ? { status: 200, body: metadata('https://evil.example.com') } : undefined,
    );
    const c = client({ grant: passwordGrant({ issuer: server.url, clientId: 'app', username: 'u', password: 'pw-value' }) });
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: ErrorCode.CONFIG, issues: [{ path: 'issuer' }] });
    expect(server.requestsTo('/token')).toHaveLength(0);
  });

  it('also refuses an issuer that differs only by a trailing slash (RFC 8414 section 3.3: identical)', async () => {
    serveMetadata('', (req, iss) => (req.path === '/.well-known/openid-configuration' ? { status: 200, body: metadata(`${iss}/`) } : undefined));
    const c = client({ grant: passwordGrant({ issuer: server.url, clientId: 'app', username: 'u', password: 'pw-value' }) });
    await expect(c.getAccessToken()).rejects.toMatchObject({ code: ErrorCode.CONFIG });
  });

  it('reports a failed fetch to the caller as a typed error, and tries again on the next call (never cached)', async () => {
    let up = false;
    const issuer = serveMetadata('', (req, iss) =>
      req.path === '/.well-known/openid-configuration' ? (up ? { status: 200, body: metadata(iss) } : { status: 503, body: {} }) : undefined,
    );
    const c = client({ grant: passwordGrant({ issuer, clientId: 'app', username: 'u', password: 'pw-value' }) });
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ code: ErrorCode.HTTP_STATUS, status: 503 });
    // The transport's retries applied (retries: 1).
    expect(documentGets()).toHaveLength(2);
    up = true;
    await expect(c.getAccessToken()).resolves.toBe('at-discovered');
  });

  it('refuses a discovered plain-http token endpoint off loopback', async () => {
    const issuer = serveMetadata('', (req, iss) =>
      req.path === '/.well-known/openid-configuration'
        ? { status: 200, body: { ...metadata(iss), token_endpoint: 'http://as.example.com/token' } }
        : undefined,
    );
    const c = client({ grant: passwordGrant({ issuer, clientId: 'app', username: 'u', password: 'pw-value' }) });
    await expect(c.getAccessToken()).rejects.toMatchObject({ code: ErrorCode.CONFIG, issues: [{ path: 'token_endpoint' }] });
  });

  it('sends a mutual-TLS client to the mtls_endpoint_aliases token endpoint (RFC 8705 section 5), others to token_endpoint', async () => {
    const issuer = serveMetadata('', (req, iss) =>
      req.path === '/.well-known/openid-configuration'
        ? { status: 200, body: { ...metadata(iss), mtls_endpoint_aliases: { token_endpoint: `${iss}/mtls/token` } } }
        : undefined,
    );
    const inner = server.handler;
    server.handler = (req, res) => (req.path === '/mtls/token' ? json(res, 200, { ...TOKEN, access_token: 'at-mtls' }) : inner(req, res));
    const ca = makeTestCa('svc-alias');
    ca.dispose();
    const auth = tlsClientAuth('svc', ca.client);
    try {
      await expect(client({ grant: clientCredentialsGrant({ issuer, clientId: 'svc', clientAuth: auth }) }).getAccessToken()).resolves.toBe('at-mtls');
      await expect(client({ grant: clientCredentialsGrant({ issuer, clientId: 'svc', clientSecret: 'secret-value' }) }).getAccessToken()).resolves.toBe(
        'at-discovered',
      );
    } finally {
      await auth.close();
    }
    expect(server.requests.filter((r) => r.method === 'POST').map((r) => [r.path, r.params['client_id']])).toEqual([
      ['/mtls/token', 'svc'],
      ['/token', undefined],
    ]);
  });

  it('keeps a configured endpoint over the discovered one', async () => {
    const issuer = serveMetadata('', (req, iss) =>
      req.path === '/.well-known/openid-configuration' ? { status: 200, body: { ...metadata(iss), token_endpoint: `${iss}/elsewhere` } } : undefined,
    );
    const c = client({ grant: passwordGrant({ issuer, tokenUrl: `${server.url}/token`, clientId: 'app', username: 'u', password: 'pw-value' }) });
    await c.getAccessToken();
    // The token endpoint was configured: no discovery was needed for the token request.
    expect(documentGets()).toHaveLength(0);
  });
});

describe('discovery options', () => {
  it('needs tokenUrl or issuer, and says so', () => {
    const error = (() => {
      try {
        clientCredentialsGrant({ clientId: 'svc', clientSecret: 'secret-value' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'tokenUrl', message: expect.stringContaining('or issuer') }]);
  });

  it('refuses a plain-http issuer off loopback at construction', () => {
    expect(() => clientCredentialsGrant({ issuer: 'http://as.example.com', clientId: 'svc', clientSecret: 'secret-value' })).toThrow(
      /issuer: must use https/,
    );
  });

  it('configFromEnv: PRODO_AUTH_ISSUER replaces PRODO_AUTH_TOKEN_URL and PRODO_AUTH_AUTHORIZE_URL', () => {
    const config = configFromEnv({
      PRODO_AUTH_GRANT: 'authorization_code',
      PRODO_AUTH_ISSUER: 'https://id.example.com/realms/prodo',
      PRODO_AUTH_CLIENT_ID: 'web',
      PRODO_AUTH_REDIRECT_URI: 'https://app.example.com/auth/callback',
      PRODO_AUTH_SESSION_SECRET: 'x'.repeat(32),
    });
    expect(config.mode).toBe('user');
    expect(() =>
      configFromEnv({ PRODO_AUTH_GRANT: 'client_credentials', PRODO_AUTH_CLIENT_ID: 'svc', PRODO_AUTH_CLIENT_SECRET: 'secret-value' }),
    ).toThrow(/PRODO_AUTH_TOKEN_URL: is required for PRODO_AUTH_GRANT=client_credentials \(or set PRODO_AUTH_ISSUER/);
    expect(() => configFromEnv({ PRODO_AUTH_GRANT: 'static', PRODO_AUTH_TOKEN: 'tok-value', PRODO_AUTH_ISSUER: 'https://id.example.com' })).toThrow(
      /PRODO_AUTH_ISSUER: is not used with PRODO_AUTH_GRANT=static/,
    );
  });
});
