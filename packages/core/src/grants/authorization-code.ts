import { clientFields, resolveClientAuth, type ClientAuthentication, type ClientAuthMethod } from '../client-auth.js';
import type { PrivateKeyInput } from '../client-auth-jwt.js';
import { ReauthenticationRequiredError } from '../errors.js';
import { nodeCrypto } from '../node-crypto.js';
import { ConfigError } from '../errors.js';
import { Endpoints, endpointFields, standardRequests } from '../endpoints.js';
import {
  cacheKeyOf,
  formTokenRequest,
  secretsOf,
  type Grant,
  type GrantContext,
} from '../grant.js';
import { SecretSet } from '../redact.js';
import type { TokenSet } from '../token-set.js';
import {
  absoluteUrl,
  boolean,
  endpointUrl,
  insecureField,
  optional,
  type Check,
  parseOptions,
  scope,
  stringRecord,
  text,
} from '../validation.js';

export interface AuthorizationCodeGrantOptions {
  /** The authorization endpoint the browser is sent to. Required unless `issuer` is set. */
  authorizeUrl?: string | undefined;
  /** The token endpoint. Required unless `issuer` is set. */
  tokenUrl?: string | undefined;
  /** The issuer identifier: its discovery document supplies the endpoints not set here. */
  issuer?: string | undefined;
  /** The RFC 7009 revocation endpoint, for `client.revoke()` (and logout). Default: from discovery, if any. */
  revocationUrl?: string | undefined;
  clientId: string;
  /** Omit for a public client. */
  clientSecret?: string | undefined;
  /** @default 'client_secret_basic' with a secret, 'none' without */
  clientAuth?: ClientAuthMethod | ClientAuthentication | undefined;
  /** The private key of `clientAuth: 'private_key_jwt'`: PEM, JWK or node:crypto KeyObject. */
  privateKey?: PrivateKeyInput | undefined;
  /** Where the authorization server sends the browser back with the code. */
  redirectUri: string;
  scope?: string | string[] | undefined;
  /** Extra query parameters on the authorization URL. */
  authorizeParams?: Record<string, string> | undefined;
  /** Extra or overriding body parameters on the code exchange (a vendor's own `grant_type`). */
  tokenParams?: Record<string, string> | undefined;
  /**
   * The name of the redirect URI parameter, for servers that do not use RFC 6749's.
   * @default 'redirect_uri'
   */
  redirectUriParam?: string | undefined;
  /**
   * Accept a code exchange answer written with single quotes (`{'access_token': '...'}`).
   * @default false
   */
  lenientJson?: boolean | undefined;
  /** @default false */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

/** One login attempt: send the browser to `url`, keep `state` and `codeVerifier` server-side. */
export interface AuthorizationRequest {
  readonly url: string;
  /** Single-use value the callback must return unchanged (CSRF protection). */
  readonly state: string;
  /** The PKCE verifier to send with the code. Secret until the exchange. */
  readonly codeVerifier: string;
}

export interface AuthorizationRequestOptions {
  /** Defaults to 32 random bytes. */
  state?: string | undefined;
  /** Overrides the grant's scope for this login. */
  scope?: string | string[] | undefined;
  params?: Record<string, string> | undefined;
}

export interface CodeExchange {
  code: string;
  codeVerifier: string;
}

/** The authorization code grant, with the login URL builder and the code exchange. */
export interface AuthorizationCodeGrant extends Grant {
  /**
   * Builds the authorization URL with a fresh `state` and a PKCE S256 challenge. Synchronous: the
   * authorization endpoint must be configured, or already discovered (else a ConfigError says to
   * use {@link AuthorizationCodeGrant.resolveAuthorizationRequest}).
   */
  createAuthorizationRequest(options?: AuthorizationRequestOptions): AuthorizationRequest;
  /**
   * As {@link AuthorizationCodeGrant.createAuthorizationRequest}, discovering the authorization
   * endpoint first (once) when only `issuer` was configured, through `ctx.transport`. Optional in
   * the interface, so that grants written before it still type-check.
   */
  resolveAuthorizationRequest?(
    ctx: Pick<GrantContext, 'transport'>,
    options?: AuthorizationRequestOptions,
  ): Promise<AuthorizationRequest>;
  /** Exchanges an authorization code for tokens. The code is single-use and never resent. */
  exchangeCode(ctx: GrantContext, exchange: CodeExchange): Promise<TokenSet>;
}

/** `authorizeUrl`, required unless `issuer` is set. */
const authorizeUrlCheck: Check<string | undefined> = (value, report, options) => {
  if (value === undefined && options.issuer === undefined) {
    report('is required: set authorizeUrl, or issuer to discover it');
    return undefined;
  }
  return optional(endpointUrl)(value, report, options);
};

const schema = {
  authorizeUrl: authorizeUrlCheck,
  ...endpointFields,
  ...clientFields,
  redirectUri: absoluteUrl,
  scope: optional(scope),
  authorizeParams: optional(stringRecord),
  tokenParams: optional(stringRecord),
  redirectUriParam: optional(text('must not be empty')),
  lenientJson: optional(boolean),
  ...insecureField,
};

// Checked on every login: an empty `state` would silently send none, and with it the CSRF check.
const requestSchema = {
  state: optional(text('must not be empty: omit it for a random state')),
  scope: optional(scope),
  params: optional(stringRecord),
};

const random = (): string => nodeCrypto().randomBytes(32).toString('base64url');

/**
 * The authorization code grant with PKCE (S256) and `state`, always on.
 *
 * @example
 * const grant = authorizationCodeGrant({ authorizeUrl, tokenUrl, clientId, clientSecret, redirectUri });
 * const { url, state, codeVerifier } = grant.createAuthorizationRequest();
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc7636
 */
export function authorizationCodeGrant(options: AuthorizationCodeGrantOptions): AuthorizationCodeGrant {
  const o = parseOptions(schema, options, 'authorizationCodeGrant');
  const clientAuth = resolveClientAuth(options);
  const endpoints = new Endpoints(o);
  const standard = standardRequests(endpoints, clientAuth);
  const redirectParam = o.redirectUriParam ?? 'redirect_uri';
  const build = (authorizeUrl: URL, options: AuthorizationRequestOptions): AuthorizationRequest => {
    const request = parseOptions(requestSchema, options, 'createAuthorizationRequest');
    const state = request.state ?? random();
    const codeVerifier = random();
    const url = new URL(authorizeUrl);
    const scope = request.scope ?? o.scope;
    // Extra parameters first: they must not replace state or the PKCE challenge.
    const query: Record<string, string | undefined> = {
      ...o.authorizeParams,
      ...request.params,
      response_type: 'code',
      client_id: o.clientId,
      [redirectParam]: o.redirectUri,
      scope,
      state,
      code_challenge: nodeCrypto().createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(query)) if (v) url.searchParams.set(k, v);
    return { url: url.href, state, codeVerifier };
  };
  return {
    type: 'authorization_code',
    cacheKey: cacheKeyOf('authorization_code', o.tokenUrl ?? o.issuer, o.clientId),
    secrets: secretsOf(clientAuth),
    canObtain: false,
    obtain() {
      return Promise.reject(
        new ReauthenticationRequiredError('The authorization code grant needs the user: start a new login'),
      );
    },
    refresh: (ctx, current) => standard.refresh(ctx, current),
    revoke: (ctx, token, hint) => standard.revoke(ctx, token, hint),
    createAuthorizationRequest(options = {}) {
      const authorizeUrl = endpoints.known('authorization_endpoint');
      if (authorizeUrl === undefined) {
        throw new ConfigError(
          'The authorization endpoint is not known yet: it comes from the discovery of issuer; call `await grant.resolveAuthorizationRequest({ transport })`, or set authorizeUrl',
        );
      }
      return build(authorizeUrl, options);
    },
    async resolveAuthorizationRequest(ctx, options = {}) {
      return build(await endpoints.require(ctx.transport, 'authorization_endpoint'), options);
    },
    async exchangeCode(ctx, { code, codeVerifier }) {
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        [redirectParam]: o.redirectUri,
        code_verifier: codeVerifier,
      });
      for (const [k, v] of Object.entries(o.tokenParams ?? {})) body.set(k, v);
      const secrets = new SecretSet().merge(ctx.secrets).add(code, codeVerifier);
      const tokenUrl = await standard.tokenUrl(ctx);
      return formTokenRequest(
        { ...ctx, secrets },
        { tokenUrl, params: body, clientAuth, singleUse: true, lenientJson: o.lenientJson, issuer: o.issuer },
      );
    },
  };
}
