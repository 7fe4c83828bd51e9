/** The grant strategy interface and the request step the OAuth form-encoded grants share. */
import type { ClientAuthentication } from './client-auth.js';
import { nodeCrypto } from './node-crypto.js';
import { SecretSet } from './redact.js';
import { processTokenResponse, type ExpiresInUnit } from './token-response.js';
import type { TokenSet } from './token-set.js';
import type { Transport, TransportResponse } from './transport.js';

/** What a grant gets from the token client for each request. */
export interface GrantContext {
  /** Sends HTTP requests with the client's timeout, retries, size cap and dispatcher. */
  readonly transport: Transport;
  /** Everything to redact from messages: the grant's secrets and the client's current tokens. */
  readonly secrets: SecretSet;
}

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
}

/** A short hash of the values that identify whose tokens these are. Never includes a secret. */
export function cacheKeyOf(...parts: Array<string | undefined>): string {
  return nodeCrypto().createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
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
}

/** Sends a form-encoded request to a token endpoint and returns the raw response. */
export async function sendForm(ctx: GrantContext, req: FormRequest): Promise<TransportResponse> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    ...req.headers,
  };
  await req.clientAuth?.apply({ tokenUrl: req.tokenUrl, headers, params: req.params });
  return ctx.transport.send({
    url: req.tokenUrl,
    headers,
    body: req.params.toString(),
    singleUse: req.singleUse ?? false,
    // The request's own secrets too: the client authentication may have added a header or param.
    secrets: new SecretSet().merge(ctx.secrets).merge(req.clientAuth?.secrets),
  });
}

/** Sends a form-encoded token request and interprets the response. */
export async function formTokenRequest(ctx: GrantContext, req: FormRequest): Promise<TokenSet> {
  const res = await sendForm(ctx, req);
  return processTokenResponse(res, {
    where: endpointLabel(req.tokenUrl),
    secrets: ctx.secrets,
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
  options: { tokenUrl: URL; clientAuth?: ClientAuthentication | undefined; extraParams?: Record<string, string> },
): Promise<TokenSet> {
  const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current.refreshToken ?? '' });
  for (const [k, v] of Object.entries(options.extraParams ?? {})) params.set(k, v);
  return formTokenRequest(ctx, { tokenUrl: options.tokenUrl, params, clientAuth: options.clientAuth, singleUse: true });
}

/** A SecretSet with the given secrets and those of a client authentication. */
export function secretsOf(clientAuth: ClientAuthentication | undefined, ...secrets: Array<string | undefined>): SecretSet {
  return new SecretSet().merge(clientAuth?.secrets).add(...secrets);
}
