/**
 * Client authentication at the token endpoint, as values. Each captures its secret in a closure;
 * `private_key_jwt`, `client_secret_jwt` or mTLS slot in as more implementations of the same
 * interface.
 */
import type { Dispatcher } from 'undici';
import { clientSecretJwt, privateKeyField, privateKeyJwt, type PrivateKeyInput } from './client-auth-jwt.js';
import { SecretSet } from './redact.js';
import { optional, parseOptions, secret, text, type Check } from './validation.js';

/** What a client authentication method may change on a token request. */
export interface TokenRequestParts {
  /** The endpoint the request is for (token, revocation), as configured or discovered. */
  readonly tokenUrl: URL;
  readonly headers: Record<string, string>;
  readonly params: URLSearchParams;
  /** Secrets this request alone carries (a client assertion): add them here for redaction. */
  readonly secrets?: SecretSet | undefined;
  /** The authorization server's issuer identifier, when the grant knows it. */
  readonly issuer?: string | undefined;
}

/** A client authentication method (RFC 6749 section 2.3). */
export interface ClientAuthentication {
  /** The method's registered name, e.g. `client_secret_basic`. */
  readonly method: string;
  readonly clientId: string;
  /** The secrets this method holds, for redaction. */
  readonly secrets: SecretSet;
  /**
   * Adds the client's credentials to a token request. Called before every attempt, retries
   * included, so a value that must be fresh per request (a client assertion's `jti`) is.
   */
  apply(request: TokenRequestParts): void | Promise<void>;
  /**
   * The method sends no secret: `clientSecret` is not required with it (a client assertion
   * signed with a private key, a TLS client certificate).
   */
  readonly secretless?: boolean | undefined;
  /** The method needs the grant's `issuer` (a client assertion whose audience is the issuer). */
  readonly requiresIssuer?: boolean | undefined;
  /**
   * The undici dispatcher this method's requests must go through (mutual TLS: one that presents
   * the client certificate). Replaces the client's dispatcher for token requests.
   */
  dispatcher?(): Promise<Dispatcher>;
}

/** The client authentication methods that can be named in options and `PRODO_AUTH_CLIENT_AUTH`. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
];

/** The methods named by a string that sign or send `clientSecret`. */
const SECRET_METHODS: readonly unknown[] = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];

// The positional arguments of the secret-based methods, checked like options so that a missing
// secret is a ConfigError naming it rather than a Basic header of "undefined".
const secretArgs = { clientId: text(), clientSecret: secret() };

// RFC 6749 appendix B: application/x-www-form-urlencoded, where a space becomes '+'.
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/**
 * HTTP Basic client authentication: the client id and secret are each form-encoded, joined with a
 * colon and Base64-encoded, with no line breaks.
 *
 * @example
 * passwordGrant({ tokenUrl, clientId, username, password, clientAuth: clientSecretBasic('app', secret) })
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuthentication {
  parseOptions(secretArgs, { clientId, clientSecret }, 'clientSecretBasic');
  const credentials = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64');
  const header = `Basic ${credentials}`;
  return {
    method: 'client_secret_basic',
    clientId,
    secrets: new SecretSet().add(clientSecret, credentials),
    apply({ headers }) {
      headers['authorization'] = header;
    },
  };
}

/**
 * Client credentials in the request body (`client_id` and `client_secret`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthentication {
  parseOptions(secretArgs, { clientId, clientSecret }, 'clientSecretPost');
  return {
    method: 'client_secret_post',
    clientId,
    secrets: new SecretSet().add(clientSecret),
    apply({ params }) {
      params.set('client_id', clientId);
      params.set('client_secret', clientSecret);
    },
  };
}

/**
 * A public client: no secret, `client_id` in the body.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.1
 */
export function noClientAuthentication(clientId: string): ClientAuthentication {
  parseOptions({ clientId: text() }, { clientId }, 'noClientAuthentication');
  return {
    method: 'none',
    clientId,
    secrets: new SecretSet(),
    apply({ params }) {
      params.set('client_id', clientId);
    },
  };
}

export interface ClientCredentialsOptions {
  clientId: string;
  clientSecret?: string | undefined;
  /** A method name, or a {@link ClientAuthentication} value. Default: Basic with a secret, none without. */
  clientAuth?: ClientAuthMethod | ClientAuthentication | undefined;
  /** The private key of `clientAuth: 'private_key_jwt'` (PEM, JWK or KeyObject). */
  privateKey?: PrivateKeyInput | undefined;
}

const isClientAuthentication = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && typeof (v as { apply?: unknown }).apply === 'function';

/**
 * `clientAuth`: a method name, or a {@link ClientAuthentication} value. Values are recognised by
 * their shape, never by class, so one made by another copy of this package works too.
 */
const clientAuthCheck: Check<ClientAuthMethod | ClientAuthentication> = (value, report, options) => {
  if (!(CLIENT_AUTH_METHODS as readonly unknown[]).includes(value) && !isClientAuthentication(value)) {
    report(`must be one of ${CLIENT_AUTH_METHODS.join(', ')}, or a client authentication value such as clientSecretBasic(id, secret)`);
  } else if ((value as Partial<ClientAuthentication>).requiresIssuer === true && options.issuer === undefined) {
    report("signs client assertions for audience 'issuer': set this grant's issuer option, or give the assertion another audience");
  }
  return value as ClientAuthMethod | ClientAuthentication;
};

/** `clientSecret`, required when `clientAuth` names a secret-based method. */
const clientSecretCheck: Check<string | undefined> = (value, report, options) => {
  const method = options.clientAuth;
  if (value === undefined && SECRET_METHODS.includes(method)) {
    report(`is required with clientAuth '${String(method)}'`);
  }
  return optional(secret('must not be empty'))(value, report, options);
};

/** `privateKey`, required with `clientAuth: 'private_key_jwt'` and used by nothing else. */
const privateKeyCheck: Check<PrivateKeyInput | undefined> = (value, report, options) => {
  if (value === undefined && options.clientAuth === 'private_key_jwt') report(`is required with clientAuth 'private_key_jwt'`);
  else if (value !== undefined && options.clientAuth !== 'private_key_jwt') {
    report(`is used only with clientAuth 'private_key_jwt': set that, or pass clientAuth: privateKeyJwt(clientId, key)`);
  }
  return privateKeyField(value, report, options);
};

/** The schema fields of {@link ClientCredentialsOptions}, shared by the grants that authenticate a client. */
export const clientFields: {
  clientId: Check<string>;
  clientSecret: Check<string | undefined>;
  clientAuth: Check<ClientAuthMethod | ClientAuthentication | undefined>;
  privateKey: Check<PrivateKeyInput | undefined>;
} = {
  clientId: text(),
  clientSecret: clientSecretCheck,
  clientAuth: optional(clientAuthCheck),
  privateKey: privateKeyCheck,
};

/**
 * `clientSecret` of a grant that needs an authenticated client (client credentials): required
 * unless `clientAuth` authenticates without one, and never a public client.
 */
export const confidentialClientSecret: Check<string | undefined> = (value, report, options) => {
  const auth = options.clientAuth;
  const method = isClientAuthentication(auth) ? (auth as ClientAuthentication).method : auth;
  if (method === 'none') {
    report(`cannot be left out: this grant needs an authenticated client, and clientAuth is 'none' (a public client); use a secret, privateKeyJwt(...) or tlsClientAuth(...)`);
    return undefined;
  }
  if (value === undefined && (auth === undefined || SECRET_METHODS.includes(auth))) {
    report(`is required (or authenticate without a secret: clientAuth: privateKeyJwt(clientId, key), or tlsClientAuth(...))`);
  }
  return optional(secret('must not be empty'))(value, report, options);
};

/** The authentication a grant's options ask for. Options are validated before this is called. */
export function resolveClientAuth(options: ClientCredentialsOptions): ClientAuthentication {
  const { clientId, clientSecret, clientAuth } = options;
  if (typeof clientAuth === 'object') return clientAuth;
  const method = clientAuth ?? (clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (method === 'none') return noClientAuthentication(clientId);
  if (method === 'private_key_jwt') return privateKeyJwt(clientId, options.privateKey!);
  if (method === 'client_secret_jwt') return clientSecretJwt(clientId, clientSecret!);
  // Validation guarantees a secret for the secret-based methods.
  if (method === 'client_secret_post') return clientSecretPost(clientId, clientSecret!);
  return clientSecretBasic(clientId, clientSecret!);
}
