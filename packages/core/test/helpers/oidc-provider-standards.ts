/**
 * oidc-provider configured for the standards beyond RFC 6749 (issue #17): revocation (RFC 7009),
 * discovery, client assertions (RFC 7523: private_key_jwt and client_secret_jwt, replayed `jti`s
 * refused), on top of the shared interoperability server of oidc-provider.ts.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ProviderContext } from 'oidc-provider';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { TokenClient } from '../../src/index.js';
import { API_SCOPE, startOidcProvider, type OidcProviderExtension, type OidcTestServer } from './oidc-provider.js';
import { json, startServer, type TestServer } from './token-server.js';

/** Clients that authenticate with a client assertion. */
export const JWT_CLIENTS = {
  /** client_credentials with private_key_jwt (RS256, the public key registered in its jwks). */
  privateKey: { clientId: 'svc-private-key-jwt' },
  /** client_credentials with private_key_jwt and an ES256 key. */
  ecKey: { clientId: 'svc-ec-jwt' },
  /** client_credentials with client_secret_jwt (HS256). */
  secret: { clientId: 'svc-secret-jwt', clientSecret: 'svc-secret-jwt: a secret long enough for HS256 signing, 48+' },
} as const;

export interface StandardsTestServer extends OidcTestServer {
  revocationUrl: string;
  /** The RSA private key of {@link JWT_CLIENTS.privateKey}. */
  rsaKey: KeyObject;
  /** The P-256 private key of {@link JWT_CLIENTS.ecKey}. */
  ecKey: KeyObject;
  /** Every client assertion the token endpoint received, in order. */
  assertions: string[];
}

/** Starts oidc-provider with revocation, the JWT clients, and whatever else the suite adds. */
export async function startStandardsProvider(extension: OidcProviderExtension = {}): Promise<StandardsTestServer> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const assertions: string[] = [];
  const jwtClient = (clientId: string, method: string, extra: Record<string, unknown>): Record<string, unknown> => ({
    client_id: clientId,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: API_SCOPE,
    token_endpoint_auth_method: method,
    ...extra,
  });
  const op = await startOidcProvider({
    ...extension,
    clients: (issuer) => [
      jwtClient(JWT_CLIENTS.privateKey.clientId, 'private_key_jwt', {
        jwks: { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig' }] },
      }),
      jwtClient(JWT_CLIENTS.ecKey.clientId, 'private_key_jwt', {
        jwks: { keys: [{ ...ec.publicKey.export({ format: 'jwk' }), use: 'sig' }] },
      }),
      jwtClient(JWT_CLIENTS.secret.clientId, 'client_secret_jwt', { client_secret: JWT_CLIENTS.secret.clientSecret }),
      ...(extension.clients?.(issuer) ?? []),
    ],
    features: { revocation: { enabled: true, allowedPolicy: () => true }, ...extension.features },
    setup(provider) {
      provider.use(async (ctx: ProviderContext, next: () => Promise<void>) => {
        await next();
        const assertion = (ctx.oidc?.body as Record<string, unknown> | undefined)?.['client_assertion'];
        if (ctx.method === 'POST' && typeof assertion === 'string') assertions.push(assertion);
      });
      extension.setup?.(provider);
    },
  });
  return { ...op, revocationUrl: `${op.issuer}/token/revocation`, rsaKey: rsa.privateKey, ecKey: ec.privateKey, assertions };
}

/**
 * The standards suites' set-up, once per file: this provider and a small server (answering 500
 * until a test gives it a handler), started before the file's tests; the token clients in `open`
 * closed after each test, which must leave no server error behind; both servers closed at the end.
 * `started` receives them, for the file's own variables.
 */
export function useStandardsServers(open: TokenClient[], started: (servers: { op: StandardsTestServer; server: TestServer }) => void): void {
  let op: StandardsTestServer | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    [op, server] = await Promise.all([startStandardsProvider(), startServer((_req, res) => json(res, 500, {}))]);
    started({ op, server });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    expect(op?.serverErrors).toEqual([]);
  });
  afterAll(() => Promise.all([op?.close(), server?.close()]));
}
