/** The grant strategy interface and the request step the OAuth form-encoded grants share. */
import type { ClientAuthentication } from './client-auth.js';
import { nodeCrypto } from './node-crypto.js';
import { SecretSet } from './redact.js';
import { processTokenResponse, responseError, type ExpiresInUnit } from './token-response.js';
import type { TokenSet } from './token-set.js';
import type { Transport, TransportResponse } from './transport.js';

/** What a grant gets from the token client for each request. */
export interface GrantContext {
  /** Sends HTTP requests with the client's timeout, retries, size cap and dispatcher. */
  readonly transport: Transport;
  /** Everything to redact from messages: the grant's secrets and the client's current tokens. */
  readonly secrets: SecretSet;
  /**
   * Where the request went, for tracing: {@link sendForm} fills it in; a grant that sends by
   * other means sets it itself. Origin and path only, never a query.
   */
  readonly trace?: RequestTrace | undefined;
}

/** The endpoint a token request went to, recorded for the tracing channel. */
export interface RequestTrace {
  origin?: string | undefined;
  path?: string | undefined;
}

/** The kinds of token a revocation request can name (RFC 7009 section 2.1 `token_type_hint`). */
export type RevocableToken = 'refresh_token' | 'access_token';

/**
 * A way to get tokens. `obtain` uses the primary credentials; `refresh` uses a refresh token.
 * Grants are values: write your own by implementing this interface.
 */
export interface Grant {
  /** The grant's name, e.g. `password`, for events and messages. */
  readonly type: string;
  /** A stable, secret-free key for the token cache: same endpoint, client and user give the same key. */
  readonly cacheKey: string;
  /** The secrets this grant holds, for redaction. */
  readonly secrets: SecretSet;
  /** Whether `obtain` can run without a user present (false for the authorization code grant). */
  readonly canObtain: boolean;
  /** Gets a TokenSet from the primary credentials. */
  obtain(ctx: GrantContext): Promise<TokenSet>;
  /** Gets a TokenSet with the current refresh token. */
  refresh?(ctx: GrantContext, current: TokenSet): Promise<TokenSet>;
  /** Told when the API rejected an access token, so a grant that cannot get a new one stops offering it. */
  rejected?(accessToken: string): void;
  /**
   * Revokes a token at the server's RFC 7009 revocation endpoint, with the grant's client
   * authentication. Resolves false when no revocation endpoint is configured or discovered.
   */
  revoke?(ctx: GrantContext, token: string, hint: RevocableToken): Promise<boolean>;
}

/** A short hash of the values that identify whose tokens these are. Never includes a secret. */
export function cacheKeyOf(...parts: Array<string | undefined>): string {
  return nodeCrypto().createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/** Records where a request goes on the context's trace, if it is traced: origin and path, never the query. */
export function traceEndpoint(ctx: GrantContext, url: URL): void {
  if (ctx.trace === undefined) return;
  ctx.trace.origin = url.origin;
  ctx.trace.path = url.pathname;
}

/** Origin and path of an endpoint, for messages: a query string may hold secrets. */
export function endpointLabel(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export interface FormRequest {
  tokenUrl: URL;
  params: URLSearchParams;
  clientAuth?: ClientAuthentication | undefined;
  /** The request spends a single-use credential (a code, a refresh token). */
  singleUse?: boolean;
  headers?: Record<string, string> | undefined;
  expiresInUnit?: ExpiresInUnit | undefined;
  lenientJson?: boolean | undefined;
  /** The server's issuer identifier, when known: a client assertion may name it as audience. */
  issuer?: string | undefined;
  /**
   * The set the request's secrets are collected in (the context's, the client authentication's,
   * and what it adds per request: a client assertion), for redacting the answer. Default: a new one.
   */
  secrets?: SecretSet | undefined;
}

/**
 * Sends a form-encoded request to a token endpoint and returns the raw response. The client
 * authentication is applied before every attempt: a client assertion is never sent twice.
 */
export async function sendForm(ctx: GrantContext, req: FormRequest): Promise<TransportResponse> {
  traceEndpoint(ctx, req.tokenUrl);
  // The request's own secrets too: the client authentication may add a header or param.
  const secrets = req.secrets ?? requestSecrets(ctx, req);
  const clientAuth = req.clientAuth;
  return ctx.transport.send({
    url: req.tokenUrl,
    dispatcher: await clientAuth?.dispatcher?.(),
    headers: {},
    singleUse: req.singleUse ?? false,
    secrets,
    prepare: async () => {
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...req.headers,
      };
      const params = new URLSearchParams(req.params);
      await clientAuth?.apply({ tokenUrl: req.tokenUrl, headers, params, secrets, issuer: req.issuer });
      return { headers, body: params.toString() };
    },
  });
}

function requestSecrets(ctx: GrantContext, req: FormRequest): SecretSet {
  return new SecretSet().merge(ctx.secrets).merge(req.clientAuth?.secrets);
}

/** Sends a form-encoded token request and interprets the response. */
export async function formTokenRequest(ctx: GrantContext, req: FormRequest): Promise<TokenSet> {
  const secrets = req.secrets ?? requestSecrets(ctx, req);
  const res = await sendForm(ctx, { ...req, secrets });
  return processTokenResponse(res, {
    where: endpointLabel(req.tokenUrl),
    // With what the request alone carried: a server may echo the client assertion back.
    secrets,
    expiresInUnit: req.expiresInUnit,
    lenientJson: req.lenientJson,
  });
}

/**
 * The refresh_token grant (RFC 6749 section 6), shared by every form-encoded grant.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export function refreshTokenRequest(
  ctx: GrantContext,
  current: TokenSet,
  options: {
    tokenUrl: URL;
    clientAuth?: ClientAuthentication | undefined;
    extraParams?: Record<string, string> | undefined;
    issuer?: string | undefined;
  },
): Promise<TokenSet> {
  const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current.refreshToken ?? '' });
  for (const [k, v] of Object.entries(options.extraParams ?? {})) params.set(k, v);
  return formTokenRequest(ctx, {
    tokenUrl: options.tokenUrl,
    params,
    clientAuth: options.clientAuth,
    singleUse: true,
    issuer: options.issuer,
  });
}

/** A SecretSet with the given secrets and those of a client authentication. */
export function secretsOf(clientAuth: ClientAuthentication | undefined, ...secrets: Array<string | undefined>): SecretSet {
  return new SecretSet().merge(clientAuth?.secrets).add(...secrets);
}

export interface RevocationRequest {
  revocationUrl: URL;
  clientAuth?: ClientAuthentication | undefined;
  token: string;
  hint: RevocableToken;
  issuer?: string | undefined;
}

/**
 * Revokes a token (RFC 7009 section 2.1) and interprets the answer: HTTP 200 is success,
 * whatever the body (a token the server does not know counts as revoked, section 2.2); anything
 * else is a typed error. Sent as a single-use request: resent only when it surely never reached
 * the server, never blindly.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeTokenRequest(ctx: GrantContext, req: RevocationRequest): Promise<void> {
  const params = new URLSearchParams({ token: req.token, token_type_hint: req.hint });
  const secrets = new SecretSet().merge(ctx.secrets).merge(req.clientAuth?.secrets).add(req.token);
  const res = await sendForm(ctx, {
    tokenUrl: req.revocationUrl,
    params,
    clientAuth: req.clientAuth,
    singleUse: true,
    issuer: req.issuer,
    secrets,
  });
  if (res.status !== 200) throw responseError(res, { where: endpointLabel(req.revocationUrl), secrets });
}
