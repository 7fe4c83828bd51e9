/**
 * Mutual-TLS client authentication (RFC 8705 section 2): the client proves itself with its TLS
 * certificate, and the request body carries only `client_id`. `tls_client_auth` uses a
 * certificate issued by a CA the server trusts; `self_signed_tls_client_auth` one the client
 * registered itself.
 *
 * Token requests of a client with one of these go through an undici Agent that presents the
 * certificate, made on the first request: it replaces the client's dispatcher for token
 * requests only (so no proxy from HTTP(S)_PROXY applies to them), and discovery prefers the
 * server's `mtls_endpoint_aliases` (RFC 8705 section 5).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { ClientAuthentication } from './client-auth.js';
import { keySecrets } from './client-auth-jwt.js';
import { ConfigError } from './errors.js';
import { loadUndici } from './load-undici.js';
import { nodeCrypto } from './node-crypto.js';
import { optional, parseOptions, secret, shape, text, type Check } from './validation.js';

export interface TlsClientAuthOptions {
  /** The client certificate, PEM (a chain may follow it). */
  cert: string | Buffer;
  /** Its private key, PEM or a node:crypto KeyObject. Never shown in any message or inspect output. */
  key: string | Buffer | KeyObject;
  /** The passphrase of an encrypted PEM key. */
  passphrase?: string | undefined;
  /** CA certificates to trust for the server's certificate, PEM. Default: Node's bundled CAs. */
  ca?: string | Buffer | Array<string | Buffer> | undefined;
}

/** A mutual-TLS client authentication value; `close()` closes the connections it opened. */
export interface TlsClientAuthentication extends ClientAuthentication {
  readonly method: 'tls_client_auth' | 'self_signed_tls_client_auth';
  /** The undici dispatcher that presents the client certificate, made on first use. */
  dispatcher(): Promise<Dispatcher>;
  close(): Promise<void>;
}

const pem: Check<string | Buffer> = shape<string | Buffer>(
  (v) => (typeof v === 'string' && v.trim() !== '') || Buffer.isBuffer(v),
  'must be a PEM string or Buffer',
);

const schema = {
  clientId: text(),
  cert: pem,
  key: shape<string | Buffer | KeyObject>(
    (v) => (typeof v === 'string' && v.trim() !== '') || Buffer.isBuffer(v) || (typeof v === 'object' && v !== null && typeof (v as KeyObject).export === 'function'),
    'must be a PEM private key (string or Buffer) or a node:crypto KeyObject',
  ),
  passphrase: optional(secret('must not be empty')),
  ca: optional(
    shape<string | Buffer | Array<string | Buffer>>(
      (v) => typeof v === 'string' || Buffer.isBuffer(v) || (Array.isArray(v) && v.every((c) => typeof c === 'string' || Buffer.isBuffer(c))),
      'must be PEM certificates: a string, a Buffer or an array of them',
    ),
  ),
};

function mtls(
  method: TlsClientAuthentication['method'],
  clientId: string,
  options: TlsClientAuthOptions,
  where: string,
): TlsClientAuthentication {
  const o = parseOptions(schema, { clientId, ...options }, where);
  const fail = (path: string, message: string): ConfigError => new ConfigError(`Invalid ${where} options`, [{ path, message }]);
  let key: KeyObject;
  try {
    key =
      typeof o.key === 'object' && !Buffer.isBuffer(o.key)
        ? o.key
        : nodeCrypto().createPrivateKey(o.passphrase === undefined ? o.key : { key: o.key, passphrase: o.passphrase });
  } catch {
    throw fail('key', 'is not a private key node:crypto can read (PEM; set passphrase for an encrypted one)');
  }
  if (key.type !== 'private') throw fail('key', `must be a private key, not a ${key.type} one`);
  let certificate: X509Certificate;
  try {
    certificate = new (nodeCrypto().X509Certificate)(o.cert);
  } catch {
    throw fail('cert', 'is not a PEM certificate');
  }
  if (!certificate.checkPrivateKey(key)) throw fail('key', 'does not belong to cert: pass the key of this certificate');
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  let agent: Promise<Dispatcher> | undefined;
  let closed = false;
  return {
    method,
    clientId,
    secrets: keySecrets(key, typeof o.key === 'string' ? o.key : Buffer.isBuffer(o.key) ? o.key.toString('utf8') : keyPem),
    secretless: true,
    apply({ params }) {
      params.set('client_id', clientId);
    },
    dispatcher() {
      if (closed) return Promise.reject(new ConfigError(`${where}: this client authentication was closed`));
      agent ??= loadUndici().then(
        ({ Agent }) =>
          new Agent({
            keepAliveTimeout: 10_000,
            connect: { cert: o.cert, key: keyPem, ...(o.ca === undefined ? {} : { ca: o.ca }) },
          }),
      );
      return agent;
    },
    async close() {
      closed = true;
      const made = await agent;
      await made?.close();
    },
  };
}

/**
 * `tls_client_auth`: the client authenticates with a certificate from a CA the server trusts;
 * only `client_id` goes in the body.
 *
 * @example
 * clientCredentialsGrant({ issuer, clientId: 'svc', clientAuth: tlsClientAuth('svc', { cert, key }) })
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2.1
 */
export function tlsClientAuth(clientId: string, options: TlsClientAuthOptions): TlsClientAuthentication {
  return mtls('tls_client_auth', clientId, options, 'tlsClientAuth');
}

/**
 * `self_signed_tls_client_auth`: as {@link tlsClientAuth}, with a self-signed certificate the
 * client registered with the server (in its JWKS).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-2.2
 */
export function selfSignedTlsClientAuth(clientId: string, options: TlsClientAuthOptions): TlsClientAuthentication {
  return mtls('self_signed_tls_client_auth', clientId, options, 'selfSignedTlsClientAuth');
}
