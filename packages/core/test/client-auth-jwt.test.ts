/**
 * private_key_jwt and client_secret_jwt (RFC 7523 section 2.2): against oidc-provider, which
 * refuses a replayed `jti` (so a reused assertion fails these tests), and against a small server
 * for what the assertion holds, including across the transport's retries.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  clientSecretJwt,
  ConfigError,
  configFromEnv,
  createTokenClient,
  ErrorCode,
  JWT_BEARER_ASSERTION_TYPE,
  OAuthError,
  passwordGrant,
  privateKeyJwt,
  type TokenClient,
  type TokenClientOptions,
} from '../src/index.js';
import { API_SCOPE } from './helpers/oidc-provider.js';
import { JWT_CLIENTS, type StandardsTestServer, useStandardsServers } from './helpers/oidc-provider-standards.js';
import { json, type TestServer } from './helpers/token-server.js';

let op: StandardsTestServer;
let server: TestServer;
const open: TokenClient[] = [];

useStandardsServers(open, (started) => ({ op, server } = started));

function client(options: TokenClientOptions): TokenClient {
  const c = createTokenClient({ timeoutMs: 5000, ...options });
  open.push(c);
  return c;
}

/** The provider's verdict on an assertion sent again, outside prodo-auth. */
async function replay(assertion: string, clientId: string): Promise<{ status: number; error: unknown }> {
  const res = await fetch(op.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    }).toString(),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, error: ((await res.json()) as { error?: unknown }).error };
}

describe('client assertions against oidc-provider', () => {
  const rsaForms = (): Array<[string, () => unknown]> => [
    ['a KeyObject', () => op.rsaKey],
    ['a PEM string (PKCS#8)', () => op.rsaKey.export({ type: 'pkcs8', format: 'pem' })],
    ['a PEM string (PKCS#1)', () => op.rsaKey.export({ type: 'pkcs1', format: 'pem' })],
    ['a JWK', () => ({ ...op.rsaKey.export({ format: 'jwk' }), kid: 'rsa-1' })],
  ];

  it.each(rsaForms())('private_key_jwt with %s: two token requests, each with a fresh assertion the provider accepts', async (_form, key) => {
    const clientId = JWT_CLIENTS.privateKey.clientId;
    const c = client({
      grant: clientCredentialsGrant({ issuer: op.issuer, clientId, clientAuth: privateKeyJwt(clientId, key() as string), scope: API_SCOPE }),
    });
    const before = op.assertions.length;
    const first = await c.getAccessToken();
    await c.invalidate();
    const second = await c.getAccessToken();
    expect(second).not.toBe(first);
    const sent = op.assertions.slice(before);
    expect(sent).toHaveLength(2);
    expect(op.tokenRequestsOf(clientId).slice(-2).map((r) => r.status)).toEqual([200, 200]);
    // The provider refuses a replayed jti: had the client reused an assertion, the second request would have failed.
    expect(await replay(sent[0]!, clientId)).toEqual({ status: 401, error: 'invalid_client' });
    const [a, b] = sent.map((s) => decodeJwt(s));
    expect(a!.jti).not.toBe(b!.jti);
    expect(a).toMatchObject({ iss: clientId, sub: clientId, aud: op.tokenUrl });
    expect(a!.exp! - a!.iat!).toBe(60);
    expect(decodeProtectedHeader(sent[0]!).alg).toBe('RS256');
  });

  it('private_key_jwt with an EC key signs ES256, and the provider accepts it', async () => {
    const clientId = JWT_CLIENTS.ecKey.clientId;
    const c = client({
      grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, clientId, clientAuth: 'private_key_jwt', privateKey: op.ecKey, scope: API_SCOPE }),
    });
    await c.getAccessToken();
    expect(decodeProtectedHeader(op.assertions.at(-1)!).alg).toBe('ES256');
  });

  it("audience 'issuer' names the issuer, which the provider accepts too", async () => {
    const clientId = JWT_CLIENTS.privateKey.clientId;
    const c = client({
      grant: clientCredentialsGrant({ issuer: op.issuer, clientId, clientAuth: privateKeyJwt(clientId, op.rsaKey, { audience: 'issuer' }) }),
    });
    await c.getAccessToken();
    expect(decodeJwt(op.assertions.at(-1)!).aud).toBe(op.issuer);
  });

  it('client_secret_jwt: fresh HS256 assertions the provider accepts, and the secret never sent', async () => {
    const { clientId, clientSecret } = JWT_CLIENTS.secret;
    const c = client({
      grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, clientId, clientSecret, clientAuth: 'client_secret_jwt', scope: API_SCOPE }),
    });
    await c.getAccessToken();
    await c.invalidate();
    await c.getAccessToken();
    const [a, b] = op.assertions.slice(-2);
    expect(decodeJwt(a!).jti).not.toBe(decodeJwt(b!).jti);
    expect(decodeProtectedHeader(a!).alg).toBe('HS256');
    expect(op.tokenRequestsOf(clientId).slice(-2).map((r) => r.bodyParams.includes('client_secret'))).toEqual([false, false]);
    expect(await replay(b!, clientId)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('revokes with a client assertion too (its aud the revocation endpoint), and the provider drops the token', async () => {
    const clientId = JWT_CLIENTS.privateKey.clientId;
    const c = client({
      grant: clientCredentialsGrant({ issuer: op.issuer, clientId, clientAuth: privateKeyJwt(clientId, op.rsaKey), scope: API_SCOPE }),
    });
    const token = await c.getAccessToken();
    await expect(c.revoke({ accessToken: true })).resolves.toEqual({ revoked: ['access_token'], endpointKnown: true });
    expect(decodeJwt(op.assertions.at(-1)!).aud).toBe(op.revocationUrl);
    expect(await op.provider.ClientCredentials.find(token)).toBeUndefined();
  });

  it('a key the provider does not know is invalid_client, and the error shows no key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = other.export({ type: 'pkcs8', format: 'pem' }).toString();
    const clientId = JWT_CLIENTS.privateKey.clientId;
    const c = client({ grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, clientId, clientAuth: privateKeyJwt(clientId, pem) }) });
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_client' });
    const body = pem.split('\n')[1]!;
    expect(inspect(error, { depth: 5 })).not.toContain(body);
  });
});

describe('client assertions on the wire', () => {
  it('a retry after a 503 carries a new assertion (new jti), never the same one again', async () => {
    server.requests.length = 0;
    let calls = 0;
    server.handler = (_req, res) => (++calls === 1 ? json(res, 503, { error: 'temporarily_unavailable' }) : json(res, 200, { access_token: 'at-jwt-1', expires_in: 60 }));
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const c = client({
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 },
      grant: clientCredentialsGrant({ tokenUrl: `${server.url}/token`, clientId: 'svc', clientAuth: privateKeyJwt('svc', privateKey, { keyId: 'ed-1' }) }),
    });
    await expect(c.getAccessToken()).resolves.toBe('at-jwt-1');
    const sent = server.requests.map((r) => r.params);
    expect(sent).toHaveLength(2);
    for (const params of sent) {
      expect(params).toMatchObject({ client_id: 'svc', client_assertion_type: JWT_BEARER_ASSERTION_TYPE, grant_type: 'client_credentials' });
      expect(params).not.toHaveProperty('client_secret');
      const { payload, protectedHeader } = await jwtVerify(String(params['client_assertion']), publicKey, { audience: `${server.url}/token` });
      expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: 'ed-1' });
      expect(payload).toMatchObject({ iss: 'svc', sub: 'svc' });
    }
    const jtis = sent.map((p) => decodeJwt(String(p['client_assertion'])).jti);
    expect(new Set(jtis).size).toBe(2);
  });

  it("the audience of an assertion is the token endpoint's origin and path, never its query", async () => {
    server.requests.length = 0;
    server.handler = (_req, res) => json(res, 200, { access_token: 'at-jwt-2', expires_in: 60 });
    const secret = `s-${randomUUID()}-${randomUUID()}`;
    const c = client({
      grant: passwordGrant({ tokenUrl: `${server.url}/token?tenant=a`, clientId: 'app', username: 'u', password: 'pw-value', clientAuth: clientSecretJwt('app', secret) }),
    });
    await c.getAccessToken();
    const assertion = String(server.requests[0]!.params['client_assertion']);
    await jwtVerify(assertion, new TextEncoder().encode(secret), { audience: `${server.url}/token` });
  });
});

describe('client assertion options', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const catchConfig = (fn: () => unknown): ConfigError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('no ConfigError');
  };

  it('refuses a public key, a bad PEM and an algorithm that does not fit the key, naming the fix and never the key', () => {
    expect(catchConfig(() => privateKeyJwt('svc', rsa.publicKey)).issues).toEqual([{ path: 'privateKey', message: expect.stringContaining('private key') }]);
    const garbled = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----';
    const bad = catchConfig(() => privateKeyJwt('svc', garbled));
    expect(bad.issues).toEqual([{ path: 'privateKey', message: expect.stringContaining('PEM') }]);
    expect(bad.message).not.toContain('MIIEvQ');
    expect(catchConfig(() => privateKeyJwt('svc', rsa.privateKey, { algorithm: 'ES256' })).issues).toEqual([
      { path: 'algorithm', message: expect.stringContaining('does not fit') },
    ]);
    expect(catchConfig(() => privateKeyJwt('svc', rsa.privateKey, { lifetimeSeconds: 0 })).issues).toEqual([
      { path: 'lifetimeSeconds', message: 'must be at least 1' },
    ]);
  });

  it('needs privateKey with clientAuth private_key_jwt, and no clientSecret', () => {
    expect(catchConfig(() => clientCredentialsGrant({ tokenUrl: 'https://as.example.com/token', clientId: 'svc', clientAuth: 'private_key_jwt' } as never)).issues).toEqual([
      { path: 'privateKey', message: "is required with clientAuth 'private_key_jwt'" },
    ]);
    expect(() => clientCredentialsGrant({ tokenUrl: 'https://as.example.com/token', clientId: 'svc', clientAuth: privateKeyJwt('svc', rsa.privateKey) })).not.toThrow();
  });

  it("refuses audience 'issuer' on a grant without an issuer, at construction", () => {
    expect(
      catchConfig(() =>
        clientCredentialsGrant({ tokenUrl: 'https://as.example.com/token', clientId: 'svc', clientAuth: privateKeyJwt('svc', rsa.privateKey, { audience: 'issuer' }) }),
      ).issues,
    ).toEqual([{ path: 'clientAuth', message: expect.stringContaining("set this grant's issuer option") }]);
  });

  it('client_credentials still refuses a public client, with a ConfigError naming the fix', () => {
    const error = catchConfig(() => clientCredentialsGrant({ tokenUrl: 'https://as.example.com/token', clientId: 'svc', clientAuth: 'none' } as never));
    expect(error.issues).toEqual([{ path: 'clientSecret', message: expect.stringContaining('authenticated client') }]);
    expect(catchConfig(() => clientCredentialsGrant({ tokenUrl: 'https://as.example.com/token', clientId: 'svc' } as never)).issues).toEqual([
      { path: 'clientSecret', message: expect.stringContaining('privateKeyJwt') },
    ]);
  });

  it('configFromEnv: PRODO_AUTH_CLIENT_AUTH=private_key_jwt with PRODO_AUTH_PRIVATE_KEY, \\n escapes included', () => {
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const env = {
      PRODO_AUTH_GRANT: 'client_credentials',
      PRODO_AUTH_TOKEN_URL: 'https://as.example.com/token',
      PRODO_AUTH_CLIENT_ID: 'svc',
      PRODO_AUTH_CLIENT_AUTH: 'private_key_jwt',
    };
    expect(configFromEnv({ ...env, PRODO_AUTH_PRIVATE_KEY: pem.replace(/\n/g, '\\n') }).grant.type).toBe('client_credentials');
    expect(() => configFromEnv(env)).toThrow(/PRODO_AUTH_PRIVATE_KEY: is required with PRODO_AUTH_CLIENT_AUTH=private_key_jwt/);
    const error = (() => {
      try {
        configFromEnv({ ...env, PRODO_AUTH_PRIVATE_KEY: 'not a key at all, but secret-ish' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.message).toContain('PRODO_AUTH_PRIVATE_KEY');
    expect(error?.message).not.toContain('secret-ish');
  });

  it('inspect and JSON of the client authentication show no key material', () => {
    const jwk = rsa.privateKey.export({ format: 'jwk' });
    const auth = privateKeyJwt('svc', jwk);
    const shown = `${inspect(auth, { depth: 10, showHidden: true })}${JSON.stringify(auth)}`;
    expect(shown).not.toContain(String(jwk.d));
    expect(auth.secrets.redact(`d=${String(jwk.d)}`)).not.toContain(String(jwk.d));
  });
});
