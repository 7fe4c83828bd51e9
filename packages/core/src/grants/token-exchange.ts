import {
  clientFields,
  resolveClientAuth,
  type ClientAuthentication,
  type ClientAuthMethod,
} from '../client-auth.js';
import type { PrivateKeyInput } from '../client-auth-jwt.js';
import { Endpoints, endpointFields, standardRequests } from '../endpoints.js';
import { cacheKeyOf, formTokenRequest, secretsOf, type Grant } from '../grant.js';
import { SecretSet } from '../redact.js';
import {
  absoluteUrl,
  insecureField,
  optional,
  parseOptions,
  scope,
  stringRecord,
  text,
  type Check,
} from '../validation.js';

/** RFC 8693 section 2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The token type identifiers of RFC 8693 section 3. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
} as const;

/** A token, or a function that returns the current one (called for every exchange). */
export type ExchangeTokenSource = string | (() => string | Promise<string>);

export interface TokenExchangeGrantOptions {
  /** The token endpoint. Required unless `issuer` is set. */
  tokenUrl?: string | undefined;
  /** The issuer identifier: its discovery document supplies the endpoints not set here. */
  issuer?: string | undefined;
  /** The RFC 7009 revocation endpoint, for `client.revoke()`. */
  revocationUrl?: string | undefined;
  clientId: string;
  /** Omit with a `clientAuth` that needs none (or for a public client). */
  clientSecret?: string | undefined;
  /** @default 'client_secret_basic' with a secret, 'none' without */
  clientAuth?: ClientAuthMethod | ClientAuthentication | undefined;
  /** The private key of `clientAuth: 'private_key_jwt'`. */
  privateKey?: PrivateKeyInput | undefined;
  /**
   * The token that represents the user the request is on behalf of (the one the service
   * received). A function is called for every exchange, so a token that is itself refreshed stays
   * current; it then needs `subject`.
   */
  subjectToken: ExchangeTokenSource;
  /** @default 'urn:ietf:params:oauth:token-type:access_token' */
  subjectTokenType?: string | undefined;
  /**
   * A stable, non-secret name of whose token this is (a user id), for the cache key. Required
   * with a function `subjectToken`; with a string one the key is derived from a hash of the token.
   */
  subject?: string | undefined;
  /** The token of the party acting on the subject's behalf (delegation, RFC 8693 section 1.1). */
  actorToken?: ExchangeTokenSource | undefined;
  /** Required with `actorToken`. */
  actorTokenType?: string | undefined;
  /** The logical names of the services the token is for. */
  audience?: string | string[] | undefined;
  /** The absolute URIs of the resources the token is for. */
  resource?: string | string[] | undefined;
  scope?: string | string[] | undefined;
  /** The type of token wanted (RFC 8693 `requested_token_type`). */
  requestedTokenType?: string | undefined;
  /** More body parameters. */
  extraParams?: Record<string, string> | undefined;
  /** @default false */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

const tokenSource = (name: string): Check<ExchangeTokenSource> => (value, report) => {
  if (typeof value === 'function') return value as ExchangeTokenSource;
  if (typeof value !== 'string' || value === '') report(`must be a non-empty string, or a function that returns the current ${name}`);
  return value as ExchangeTokenSource;
};

const names = (what: string, each: Check<string>): Check<string[] | undefined> => (value, report, options) => {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    report(`must be a ${what} or a non-empty array of them`);
    return undefined;
  }
  list.forEach((v: unknown, i) => each(v, (message) => report(message, String(i)), options));
  return list as string[];
};

const subjectCheck: Check<string | undefined> = (value, report, options) => {
  if (value === undefined && typeof options.subjectToken === 'function') {
    report('is required with a function subjectToken: name whose token it is (a user id), so that two subjects never share a cached token');
    return undefined;
  }
  return optional(text('must not be empty'))(value, report, options);
};

const actorTokenTypeCheck: Check<string | undefined> = (value, report, options) => {
  if (value === undefined && options.actorToken !== undefined) report('is required with actorToken (RFC 8693 section 2.1)');
  return optional(text('must not be empty'))(value, report, options);
};

const schema = {
  ...endpointFields,
  ...clientFields,
  subjectToken: tokenSource('subject token'),
  subjectTokenType: optional(text('must not be empty')),
  subject: subjectCheck,
  actorToken: optional(tokenSource('actor token')),
  actorTokenType: actorTokenTypeCheck,
  audience: optional(names('string', text('must not be empty'))),
  resource: optional(names('absolute URI', absoluteUrl)),
  scope: optional(scope),
  requestedTokenType: optional(text('must not be empty')),
  extraParams: optional(stringRecord),
  ...insecureField,
};

const resolve = async (source: ExchangeTokenSource): Promise<string> => (typeof source === 'function' ? await source() : source);
const hashOf = (token: string): string => cacheKeyOf('subject-token', token);

/**
 * The token exchange grant (RFC 8693): a service that received a user's token exchanges it for a
 * token to call another service on that user's behalf. The exchanged token is cached per subject,
 * audience, resource and scope (the store key covers them all, so two subjects or two audiences
 * never share a token), and renewed by exchanging again. Pass a shared `store` to the token
 * client to reuse a user's exchanged token across the requests that create a client for them.
 *
 * @example
 * const client = createTokenClient({
 *   store, // shared: the cache key tells subjects apart
 *   grant: tokenExchangeGrant({ issuer, clientId: 'orders', clientSecret, subjectToken: incomingToken, audience: 'billing' }),
 * });
 * @see https://www.rfc-editor.org/rfc/rfc8693
 */
export function tokenExchangeGrant(options: TokenExchangeGrantOptions): Grant {
  const o = parseOptions(schema, options, 'tokenExchangeGrant');
  const clientAuth = resolveClientAuth(options);
  const standard = standardRequests(new Endpoints(o), clientAuth);
  const staticTokens = [o.subjectToken, o.actorToken].filter((t): t is string => typeof t === 'string');
  const subject = o.subject ?? hashOf(o.subjectToken as string);
  return {
    type: 'token_exchange',
    cacheKey: cacheKeyOf(
      'token_exchange',
      o.tokenUrl ?? o.issuer,
      o.clientId,
      subject,
      o.subjectTokenType,
      typeof o.actorToken === 'string' ? hashOf(o.actorToken) : undefined,
      JSON.stringify(o.audience ?? []),
      JSON.stringify(o.resource ?? []),
      o.scope,
      o.requestedTokenType,
    ),
    secrets: secretsOf(clientAuth, ...staticTokens),
    canObtain: true,
    async obtain(ctx) {
      const subjectToken = await resolve(o.subjectToken);
      const actorToken = o.actorToken === undefined ? undefined : await resolve(o.actorToken);
      const params = new URLSearchParams({ ...o.extraParams, grant_type: TOKEN_EXCHANGE_GRANT_TYPE });
      params.set('subject_token', subjectToken);
      params.set('subject_token_type', o.subjectTokenType ?? TOKEN_TYPES.accessToken);
      if (actorToken !== undefined) {
        params.set('actor_token', actorToken);
        params.set('actor_token_type', o.actorTokenType!);
      }
      for (const a of o.audience ?? []) params.append('audience', a);
      for (const r of o.resource ?? []) params.append('resource', r);
      if (o.scope) params.set('scope', o.scope);
      if (o.requestedTokenType) params.set('requested_token_type', o.requestedTokenType);
      // The tokens a function returned are this request's secrets too.
      const secrets = new SecretSet().merge(ctx.secrets).merge(clientAuth.secrets).add(subjectToken, actorToken);
      const tokenUrl = await standard.tokenUrl(ctx);
      return formTokenRequest({ ...ctx, secrets }, { tokenUrl, params, clientAuth, issuer: o.issuer, secrets });
    },
    revoke: (ctx, token, hint) => standard.revoke(ctx, token, hint),
  };
}
