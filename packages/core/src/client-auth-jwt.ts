/**
 * Client authentication with a signed JWT, a client assertion (RFC 7523 section 2.2, OpenID
 * Connect Core section 9): `private_key_jwt` signs with the client's private key,
 * `client_secret_jwt` with an HMAC of its secret. A fresh assertion for every request, retries
 * included: a new `jti` and a short `exp`, so a server that refuses a replayed `jti` never sees
 * one twice.
 *
 * The key is parsed with node:crypto when the value is made, so a bad key is a ConfigError there;
 * jose signs, loaded on the first request.
 */
// node:crypto's JsonWebKey, not jose's JWK: the declarations must not name jose, which a
// CommonJS program's types cannot import (jose is ESM only).
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { ClientAuthentication } from './client-auth.js';
import { ConfigError } from './errors.js';
import { endpointLabel } from './grant.js';
import { loadJose } from './load-jose.js';
import { nodeCrypto } from './node-crypto.js';
import { SecretSet } from './redact.js';
import { number, oneOf, optional, parseOptions, secret, shape, text, type Check } from './validation.js';

/** RFC 7523 section 2.2. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A private key: a node:crypto `KeyObject`, a JWK (with its private members), or a PEM string. */
export type PrivateKeyInput = KeyObject | JsonWebKey | string;

/** The JWS algorithms a client assertion may be signed with. */
export type AssertionAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
export type SecretAssertionAlgorithm = 'HS256' | 'HS384' | 'HS512';

export interface ClientAssertionOptions {
  /**
   * The assertion's `aud`: `'token_endpoint'` (the URL of the endpoint it is sent to, as OpenID
   * Connect Core section 9 asks), `'issuer'` (the grant's `issuer`), or any string the server expects.
   * @default 'token_endpoint'
   */
  audience?: 'token_endpoint' | 'issuer' | (string & {}) | undefined;
  /**
   * Lifetime of each assertion, in seconds: short, as each is made for one request.
   * @default 60
   */
  lifetimeSeconds?: number | undefined;
}

export interface PrivateKeyJwtOptions extends ClientAssertionOptions {
  /** Default: from the key (RS256 for RSA, PS256 for RSA-PSS, ES256/384/512 by curve, EdDSA for Ed25519), or the JWK's `alg`. */
  algorithm?: AssertionAlgorithm | undefined;
  /** The `kid` header, naming the key among those the server knows. Default: the JWK's `kid`, if any. */
  keyId?: string | undefined;
}

export interface ClientSecretJwtOptions extends ClientAssertionOptions {
  /** @default 'HS256' */
  algorithm?: SecretAssertionAlgorithm | undefined;
}

const ASYMMETRIC: readonly AssertionAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CURVE_ALGORITHM: Record<string, AssertionAlgorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

const assertionFields = {
  audience: optional(text('must not be empty: omit it for the token endpoint')),
  lifetimeSeconds: optional(number({ integer: true, min: 1, max: 600 })),
};

const isKeyObject = (v: unknown): v is KeyObject =>
  typeof v === 'object' && v !== null && typeof (v as KeyObject).export === 'function' && typeof (v as KeyObject).type === 'string';

const privateKeyCheck: Check<PrivateKeyInput> = (value, report) => {
  if (typeof value !== 'string' && !(typeof value === 'object' && value !== null)) {
    report('must be a private key: a PEM string, a JWK object or a node:crypto KeyObject');
  }
  return value as PrivateKeyInput;
};

/** The secret forms of a private key, for redaction: the PEM, its Base64 body and lines, a JWK's private members. @internal */
export function keySecrets(key: KeyObject, given: PrivateKeyInput): SecretSet {
  const secrets = new SecretSet();
  const pems = [key.export({ type: 'pkcs8', format: 'pem' }).toString()];
  if (typeof given === 'string') pems.push(given);
  for (const pem of pems) {
    secrets.add(pem.trim());
    const body = pem.replace(/-----[^-]+-----/g, '').trim();
    secrets.add(body.replace(/\s+/g, ''), ...body.split(/\s+/));
  }
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
    if (typeof jwk[field] === 'string') secrets.add(jwk[field]);
  }
  if (typeof given === 'object' && !isKeyObject(given)) {
    for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      const v = (given as Record<string, unknown>)[field];
      if (typeof v === 'string') secrets.add(v);
    }
  }
  return secrets;
}

/** Parses a private key with node:crypto. Never puts the key, or node's message about it, in the error. */
function parsePrivateKey(input: PrivateKeyInput, where: string): KeyObject {
  const fail = (message: string): ConfigError => new ConfigError(`Invalid ${where} options`, [{ path: 'privateKey', message }]);
  if (isKeyObject(input)) {
    if (input.type !== 'private') throw fail(`must be a private key, not a ${input.type} one`);
    return input;
  }
  try {
    if (typeof input === 'string') return nodeCrypto().createPrivateKey(input.replace(/\\n/g, '\n'));
    return nodeCrypto().createPrivateKey({ key: input as never, format: 'jwk' });
  } catch {
    throw fail(
      typeof input === 'string'
        ? 'is not a PEM private key that node:crypto can read (PKCS#8 "BEGIN PRIVATE KEY", PKCS#1 "BEGIN RSA PRIVATE KEY" or SEC1 "BEGIN EC PRIVATE KEY")'
        : 'is not a private JWK (an RSA, EC or OKP key with its private member "d")',
    );
  }
}

function algorithmOf(key: KeyObject): AssertionAlgorithm | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec':
      return CURVE_ALGORITHM[key.asymmetricKeyDetails?.namedCurve ?? ''];
    case 'ed25519':
      return 'EdDSA';
    default:
      return undefined;
  }
}

/** Whether `alg` can be made with this key, so that a mismatch fails at construction, not on the first request. */
function fits(alg: AssertionAlgorithm, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return type === 'ec' && CURVE_ALGORITHM[key.asymmetricKeyDetails?.namedCurve ?? ''] === alg;
}

type Signer = (header: { alg: string; kid?: string }, claims: Record<string, unknown>) => Promise<string>;

function assertionAuth(
  method: 'private_key_jwt' | 'client_secret_jwt',
  clientId: string,
  options: ClientAssertionOptions,
  header: { alg: string; kid?: string },
  secrets: SecretSet,
  sign: Signer,
): ClientAuthentication {
  const lifetime = options.lifetimeSeconds ?? 60;
  const audience = options.audience ?? 'token_endpoint';
  return {
    method,
    clientId,
    secrets,
    secretless: method === 'private_key_jwt',
    requiresIssuer: audience === 'issuer',
    async apply({ tokenUrl, params, secrets: requestSecrets, issuer }) {
      let aud: string;
      if (audience === 'token_endpoint') aud = endpointLabel(tokenUrl);
      else if (audience === 'issuer') {
        if (issuer === undefined) {
          throw new ConfigError(`${method} with audience 'issuer' needs the grant's issuer option: set issuer, or another audience`);
        }
        aud = issuer;
      } else aud = audience;
      const now = Math.floor(Date.now() / 1000);
      const assertion = await sign(header, {
        iss: clientId,
        sub: clientId,
        aud,
        jti: nodeCrypto().randomUUID(),
        iat: now,
        exp: now + lifetime,
      });
      requestSecrets?.add(assertion);
      params.set('client_id', clientId);
      params.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE);
      params.set('client_assertion', assertion);
    },
  };
}

async function signWith(key: KeyObject | Uint8Array, header: { alg: string; kid?: string }, claims: Record<string, unknown>): Promise<string> {
  const { SignJWT } = await loadJose();
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/**
 * `private_key_jwt`: the client authenticates with an assertion signed by its private key, and
 * sends no secret. The key never shows in a message, log or `inspect` output.
 *
 * @param clientId - the client's id, the assertion's `iss` and `sub`
 * @param privateKey - a node:crypto `KeyObject`, a private JWK, or a PEM string (PKCS#8, PKCS#1, SEC1; `\n` escapes read as line breaks, as env files write them)
 * @example
 * clientCredentialsGrant({ tokenUrl, clientId: 'svc', clientAuth: privateKeyJwt('svc', process.env.CLIENT_KEY!) })
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 * @see https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication
 */
export function privateKeyJwt(clientId: string, privateKey: PrivateKeyInput, options: PrivateKeyJwtOptions = {}): ClientAuthentication {
  const o = parseOptions(
    {
      clientId: text(),
      privateKey: privateKeyCheck,
      algorithm: optional(oneOf(ASYMMETRIC)),
      keyId: optional(text('must not be empty')),
      ...assertionFields,
    },
    { clientId, privateKey, ...options },
    'privateKeyJwt',
  );
  const key = parsePrivateKey(o.privateKey, 'privateKeyJwt');
  const jwk = typeof privateKey === 'object' && !isKeyObject(privateKey) ? (privateKey as { alg?: unknown; kid?: unknown }) : {};
  const alg = o.algorithm ?? (typeof jwk.alg === 'string' && (ASYMMETRIC as readonly string[]).includes(jwk.alg) ? (jwk.alg as AssertionAlgorithm) : algorithmOf(key));
  if (alg === undefined || !fits(alg, key)) {
    throw new ConfigError('Invalid privateKeyJwt options', [
      {
        path: alg === undefined ? 'privateKey' : 'algorithm',
        message:
          alg === undefined
            ? `is a ${key.asymmetricKeyType ?? 'unknown'} key, which no supported algorithm signs with: use an RSA, EC (P-256, P-384, P-521) or Ed25519 key`
            : `${alg} does not fit this ${key.asymmetricKeyType ?? 'unknown'} key: pick the algorithm of the key, or omit it`,
      },
    ]);
  }
  const kid = o.keyId ?? (typeof jwk.kid === 'string' ? jwk.kid : undefined);
  const header = kid === undefined ? { alg } : { alg, kid };
  return assertionAuth('private_key_jwt', clientId, o, header, keySecrets(key, o.privateKey), (h, claims) => signWith(key, h, claims));
}

/**
 * `client_secret_jwt`: the client authenticates with an assertion signed with an HMAC of its
 * secret; the secret itself never crosses the network.
 *
 * @example
 * passwordGrant({ tokenUrl, clientId: 'app', username, password, clientAuth: clientSecretJwt('app', process.env.SECRET!) })
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
export function clientSecretJwt(clientId: string, clientSecret: string, options: ClientSecretJwtOptions = {}): ClientAuthentication {
  const o = parseOptions(
    { clientId: text(), clientSecret: secret(), algorithm: optional(oneOf<SecretAssertionAlgorithm>(['HS256', 'HS384', 'HS512'])), ...assertionFields },
    { clientId, clientSecret, ...options },
    'clientSecretJwt',
  );
  const key = new TextEncoder().encode(clientSecret);
  return assertionAuth('client_secret_jwt', clientId, o, { alg: o.algorithm ?? 'HS256' }, new SecretSet().add(clientSecret), (h, claims) =>
    signWith(key, h, claims),
  );
}

/** The privateKey option of a grant, checked like the other options. @internal */
export const privateKeyField: Check<PrivateKeyInput | undefined> = optional(
  shape<PrivateKeyInput>((v) => typeof v === 'string' || (typeof v === 'object' && v !== null), 'must be a PEM string, a JWK object or a KeyObject'),
);
