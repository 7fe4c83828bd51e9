/**
 * Mutual-TLS client authentication (RFC 8705) against oidc-provider behind an HTTPS server that
 * asks for client certificates, with a CA the test makes: tls_client_auth with a CA-issued
 * certificate, self_signed_tls_client_auth with a registered one, and only client_id in the body.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  ConfigError,
  configFromEnv,
  createTokenClient,
  ErrorCode,
  OAuthError,
  selfSignedTlsClientAuth,
  tlsClientAuth,
  type TokenClient,
} from '../src/index.js';
import { API_SCOPE } from './helpers/oidc-provider.js';
import { startStandardsProvider, type StandardsTestServer } from './helpers/oidc-provider-standards.js';
import { makeTestCa, type TestCa } from './helpers/test-ca.js';

const MTLS_CLIENT = 'svc-mtls';
const SELF_SIGNED_CLIENT = 'svc-mtls-self';

let ca: TestCa;
let op: StandardsTestServer;
let https: Server;
let mtlsTokenUrl: string;
const open: TokenClient[] = [];
const closers: Array<() => Promise<void>> = [];

const peerCertificate = (ctx: { socket: TLSSocket }): string | undefined => {
  const raw = ctx.socket.getPeerCertificate?.()?.raw;
  return raw === undefined ? undefined : new X509Certificate(raw).toString();
};

beforeAll(async () => {
  ca = makeTestCa(MTLS_CLIENT);
  const selfSignedKey = new X509Certificate(ca.selfSigned.cert).publicKey.export({ format: 'jwk' });
  op = await startStandardsProvider({
    clients: () => [
      {
        client_id: MTLS_CLIENT,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: API_SCOPE,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: `CN=${MTLS_CLIENT}`,
      },
      {
        client_id: SELF_SIGNED_CLIENT,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: API_SCOPE,
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [{ ...selfSignedKey, 'x5t#S256': ca.thumbprint(ca.selfSigned.cert) }] },
      },
    ],
    configure: (config) => {
      config['clientAuthMethods'] = [
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
        'tls_client_auth',
        'self_signed_tls_client_auth',
        'none',
      ];
    },
    features: {
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: peerCertificate,
        certificateAuthorized: (ctx: { socket: TLSSocket }) => ctx.socket.authorized,
        certificateSubjectMatches: (ctx: { socket: TLSSocket }, property: string, expected: string) => {
          const pem = peerCertificate(ctx);
          return property === 'tls_client_auth_subject_dn' && pem !== undefined && new X509Certificate(pem).subject === expected;
        },
      },
    },
  });
  // The provider's own routes over TLS, asking every client for a certificate (and verifying it against the CA).
  https = createServer({ ...ca.server, ca: ca.ca, requestCert: true, rejectUnauthorized: false }, op.provider.callback());
  https.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  mtlsTokenUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}/token`;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
  expect(op.serverErrors).toEqual([]);
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    https?.closeAllConnections();
    https?.close(() => resolve());
  });
  await op?.close();
  ca?.dispose();
});

function client(auth: ReturnType<typeof tlsClientAuth>, clientId: string): TokenClient {
  closers.push(() => auth.close());
  const c = createTokenClient({ timeoutMs: 5000, grant: clientCredentialsGrant({ tokenUrl: mtlsTokenUrl, clientId, clientAuth: auth, scope: API_SCOPE }) });
  open.push(c);
  return c;
}

describe('mutual-TLS client authentication against oidc-provider', () => {
  it('tls_client_auth: a CA-issued certificate gets a token, with only client_id in the body', async () => {
    const c = client(tlsClientAuth(MTLS_CLIENT, { ...ca.client, ca: ca.ca }), MTLS_CLIENT);
    const token = await c.getAccessToken();
    expect(await op.provider.ClientCredentials.find(token)).toMatchObject({ clientId: MTLS_CLIENT });
    const [received] = op.tokenRequestsOf(MTLS_CLIENT);
    expect(received).toMatchObject({ status: 200, basicAuth: false });
    expect(received!.bodyParams).toEqual(['client_id', 'grant_type', 'scope']);
  });

  it('self_signed_tls_client_auth: the registered self-signed certificate gets a token', async () => {
    const c = client(selfSignedTlsClientAuth(SELF_SIGNED_CLIENT, { ...ca.selfSigned, ca: ca.ca }), SELF_SIGNED_CLIENT);
    await expect(c.getAccessToken()).resolves.toEqual(expect.any(String));
  });

  it("a certificate of another subject is refused (invalid_client), and the error shows no key", async () => {
    const c = client(tlsClientAuth(MTLS_CLIENT, { ...ca.selfSigned, ca: ca.ca }), MTLS_CLIENT);
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_client' });
    const keyLine = ca.selfSigned.key.trim().split('\n')[1]!;
    expect(inspect(error, { depth: 6 })).not.toContain(keyLine);
  });
});

describe('mutual-TLS from the environment', () => {
  it('PRODO_AUTH_CLIENT_AUTH=tls_client_auth with PRODO_AUTH_TLS_CERT, TLS_KEY and TLS_CA (\\n escapes) gets a token', async () => {
    const escaped = (pem: string): string => pem.trim().replace(/\n/g, '\\n');
    const config = configFromEnv({
      PRODO_AUTH_GRANT: 'client_credentials',
      PRODO_AUTH_TOKEN_URL: mtlsTokenUrl,
      PRODO_AUTH_CLIENT_ID: MTLS_CLIENT,
      PRODO_AUTH_CLIENT_AUTH: 'tls_client_auth',
      PRODO_AUTH_TLS_CERT: escaped(ca.client.cert),
      PRODO_AUTH_TLS_KEY: escaped(ca.client.key),
      PRODO_AUTH_TLS_CA: escaped(ca.ca),
      PRODO_AUTH_SCOPE: API_SCOPE,
    });
    const c = createTokenClient({ ...config, timeoutMs: 5000 });
    open.push(c);
    await expect(c.getAccessToken()).resolves.toEqual(expect.any(String));
  });

  it('names the missing and the misplaced TLS variables, never their values', () => {
    const base = { PRODO_AUTH_GRANT: 'client_credentials', PRODO_AUTH_TOKEN_URL: 'https://as.example.com/token', PRODO_AUTH_CLIENT_ID: 'svc' };
    expect(() => configFromEnv({ ...base, PRODO_AUTH_CLIENT_AUTH: 'tls_client_auth', PRODO_AUTH_TLS_CERT: ca.client.cert })).toThrow(
      /PRODO_AUTH_TLS_KEY: is required with PRODO_AUTH_CLIENT_AUTH=tls_client_auth/,
    );
    const error = (() => {
      try {
        configFromEnv({ ...base, PRODO_AUTH_CLIENT_SECRET: 'secret-value', PRODO_AUTH_TLS_KEY: ca.client.key });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.issues).toEqual([{ path: 'PRODO_AUTH_TLS_KEY', message: expect.stringContaining('used only with') }]);
    expect(error?.message).not.toContain(ca.client.key.split('\n')[1]!);
  });
});

describe('mutual-TLS options', () => {
  it('refuses a key that is not the certificate\'s, and a cert that is not one, naming the option and never the key', () => {
    const mismatch = (() => {
      try {
        tlsClientAuth(MTLS_CLIENT, { cert: ca.client.cert, key: ca.selfSigned.key });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(mismatch).toBeInstanceOf(ConfigError);
    expect(mismatch!.issues).toEqual([{ path: 'key', message: expect.stringContaining('does not belong to cert') }]);
    expect(mismatch!.message).not.toContain(ca.selfSigned.key.split('\n')[1]!);
    expect(() => tlsClientAuth(MTLS_CLIENT, { cert: 'not a certificate', key: ca.client.key })).toThrow(/cert: is not a PEM certificate/);
  });

  it('inspect of the value shows no key material', () => {
    const auth = tlsClientAuth(MTLS_CLIENT, ca.client);
    const keyLine = ca.client.key.trim().split('\n')[1]!;
    expect(inspect(auth, { depth: 10, showHidden: true })).not.toContain(keyLine);
    expect(auth.secrets.redact(`key: ${keyLine}`)).not.toContain(keyLine);
  });
});
