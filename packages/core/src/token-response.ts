/**
 * The one shared "interpret" step: every grant sends its request its own way, then hands the
 * response here to be validated and normalised into a TokenSet or a typed error.
 */
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { ErrorCode, OAuthError, TokenEndpointError } from './errors.js';
import type { SecretSet } from './redact.js';
import { TokenSet } from './token-set.js';
import type { TransportResponse } from './transport.js';

/** The unit of `expires_in` / `refresh_expires_in` in a token response. */
export type ExpiresInUnit = 'seconds' | 'minutes';

export interface ProcessOptions {
  /** Where the response came from, for messages: origin and path, never a query. */
  where: string;
  secrets: SecretSet;
  /** @default 'seconds' */
  expiresInUnit?: ExpiresInUnit | undefined;
  /**
   * Also accept a JSON-like body with single-quoted strings (`{'access_token': '...'}`), as some
   * vendor docs show their responses.
   * @default false
   */
  lenientJson?: boolean | undefined;
}

const EXCERPT_LENGTH = 200;

// Lifetimes: a number, or a numeric string (some servers send "3600"); null is treated as absent.
const lifetime = z
  .union([z.number(), z.string().regex(/^\s*-?\d+(\.\d+)?\s*$/, 'expected a number').transform(Number)])
  .refine((n) => Number.isFinite(n) && n >= 0, 'must be a non-negative number of seconds')
  .nullish();

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1, 'must be a non-empty string'),
  token_type: z.string().min(1).nullish(),
  expires_in: lifetime,
  refresh_token: z.string().min(1).nullish(),
  refresh_expires_in: lifetime,
  scope: z.union([z.string(), z.array(z.string()).transform((a) => a.join(' '))]).nullish(),
});

const oauthErrorSchema = z.looseObject({
  error: z.string().min(1),
  error_description: z.string().nullish(),
  error_uri: z.string().nullish(),
});

/** The `exp` of a JWT in epoch ms, or undefined when the token is not a JWT or has no `exp`. */
export function jwtExpiry(token: string): number | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function earliest(...times: Array<number | undefined>): number | undefined {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}

// Redact before squashing whitespace or cutting: either could hide part of a secret from the match.
function excerpt(text: string, secrets: SecretSet): string {
  const flat = secrets.redact(text).replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}...` : flat;
}

function asOAuthError(res: TransportResponse, secrets: SecretSet): OAuthError | undefined {
  const value = res.body.kind === 'json' || res.body.kind === 'form' ? res.body.value : undefined;
  const parsed = oauthErrorSchema.safeParse(value);
  if (!parsed.success) return undefined;
  return new OAuthError({
    error: secrets.redact(parsed.data.error).slice(0, EXCERPT_LENGTH),
    errorDescription: parsed.data.error_description ? excerpt(parsed.data.error_description, secrets) : undefined,
    errorUri: parsed.data.error_uri ? secrets.redact(parsed.data.error_uri) : undefined,
    status: res.status,
  });
}

/** A non-OAuth error body of the `{ success: false, message }` shape some vendors use. */
function vendorMessage(res: TransportResponse): string | undefined {
  const v = res.body.kind === 'json' ? res.body.value : undefined;
  if (typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string') {
    return (v as { message: string }).message;
  }
  return undefined;
}

/** Turns an unsuccessful or unusable response into the matching typed error. */
export function responseError(res: TransportResponse, options: ProcessOptions): OAuthError | TokenEndpointError {
  const { where, secrets } = options;
  const oauth = asOAuthError(res, secrets);
  if (oauth) return oauth;
  const common = { status: res.status, requestSent: true, bodyExcerpt: excerpt(res.text, secrets) };
  if (res.status < 200 || res.status >= 300) {
    const message = vendorMessage(res);
    const what =
      res.body.kind === 'html' ? 'an HTML page' : message ? `"${excerpt(message, secrets)}"` : 'no OAuth error body';
    return new TokenEndpointError(`Token endpoint ${where} answered HTTP ${res.status} with ${what}`, {
      ...common,
      code: ErrorCode.HTTP_STATUS,
    });
  }
  const what = res.body.kind === 'html' ? 'an HTML page' : 'a body that is not JSON';
  return new TokenEndpointError(`Token endpoint ${where} answered HTTP ${res.status} with ${what}, not a token response`, {
    ...common,
    code: ErrorCode.INVALID_RESPONSE,
  });
}

/** Parses `{'key': 'value'}` by re-quoting its single-quoted strings; undefined when that fails too. */
function parseSingleQuoted(text: string): unknown {
  const requoted = text.replace(/'((?:[^'\\]|\\.)*)'/g, (_m, inner: string) => JSON.stringify(inner.replace(/\\'/g, "'")));
  try {
    return JSON.parse(requoted) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Validates a token endpoint response and normalises it into a TokenSet.
 *
 * Expiry counts from when the request was sent; when the access token is a JWT with `exp`, the
 * earlier of the two wins. A `refresh_expires_in` of 0 means the refresh token does not expire
 * (Keycloak's offline tokens); an `expires_in` of 0 is read the same way, as "no stated expiry",
 * so such a token is used until the API rejects it rather than re-requested on every call.
 */
export function processTokenResponse(res: TransportResponse, options: ProcessOptions): TokenSet {
  if (options.lenientJson && res.body.kind === 'text') {
    const value = parseSingleQuoted(res.body.text);
    if (value !== undefined) res = { ...res, body: { kind: 'json', value } };
  }
  const ok = res.status >= 200 && res.status < 300;
  if (!ok || (res.body.kind !== 'json' && res.body.kind !== 'form')) throw responseError(res, options);
  // Some servers answer an error with 200.
  if (typeof (res.body.value as { error?: unknown } | null)?.error === 'string') throw responseError(res, options);
  const parsed = tokenResponseSchema.safeParse(res.body.value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ');
    throw new TokenEndpointError(`Token endpoint ${options.where} sent an invalid token response: ${fields}`, {
      code: ErrorCode.INVALID_RESPONSE,
      status: res.status,
      requestSent: true,
    });
  }
  const data = parsed.data;
  const unitMs = options.expiresInUnit === 'minutes' ? 60_000 : 1000;
  const lifetimeMs = data.expires_in ? data.expires_in * unitMs : undefined;
  const refreshLifetimeMs = data.refresh_expires_in ? data.refresh_expires_in * unitMs : undefined;
  const refreshToken = data.refresh_token ?? undefined;
  return new TokenSet({
    accessToken: data.access_token,
    tokenType: data.token_type ?? 'Bearer',
    expiresAt: earliest(lifetimeMs === undefined ? undefined : res.sentAt + lifetimeMs, jwtExpiry(data.access_token)),
    refreshToken,
    refreshExpiresAt:
      refreshToken === undefined
        ? undefined
        : earliest(
            refreshLifetimeMs === undefined ? undefined : res.sentAt + refreshLifetimeMs,
            jwtExpiry(refreshToken),
          ),
    scope: data.scope ?? undefined,
    issuedAt: res.sentAt,
    raw: res.body.value as Record<string, unknown>,
  });
}
