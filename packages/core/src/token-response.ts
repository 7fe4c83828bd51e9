/**
 * The one shared "interpret" step: every grant sends its request its own way, then hands the
 * response here to be validated and normalised into a TokenSet or a typed error.
 */
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
/**
 * How much of a body is redacted for an excerpt. Redaction runs before the excerpt is cut (a cut
 * could hide part of a secret from the match), so it is bounded for a large body: the tail of the
 * window, where a secret may have been cut in two, is dropped after redaction.
 */
const REDACTION_WINDOW = 16_384;
const WINDOW_TAIL = 8_192;

/**
 * RFC 6750 section 2.1 b64token: what an access token may be, so that `Authorization: Bearer`
 * can carry it. A control character in it would break the header and print the token.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 6749 appendix A.17: a refresh token is VSCHAR, visible ASCII and space. */
const VSCHAR = /^[\x20-\x7e]+$/;
const NUMERIC = /^\s*-?\d+(\.\d+)?\s*$/;

/** The fields of a token response, validated. */
interface TokenResponseFields {
  access_token: string;
  token_type: string | undefined;
  expires_in: number | undefined;
  refresh_token: string | undefined;
  refresh_expires_in: number | undefined;
  scope: string | undefined;
}

type Checked<T> = { value: T } | { issue: string };

// A lifetime is a number, or a numeric string (some servers send "3600"); null is treated as absent.
function lifetime(value: unknown): Checked<number | undefined> {
  if (value === undefined || value === null) return { value: undefined };
  if (typeof value !== 'number' && !(typeof value === 'string' && NUMERIC.test(value))) return { issue: 'expected a number' };
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? { value: n } : { issue: 'must be a non-negative number of seconds' };
}

function optionalString(value: unknown): Checked<string | undefined> {
  if (value === undefined || value === null) return { value: undefined };
  if (typeof value !== 'string') return { issue: 'expected a string' };
  return value.length > 0 ? { value } : { issue: 'must be a non-empty string' };
}

/**
 * Checks the fields of a token response by hand: the few that matter, with messages of the shape
 * `field message` that name the field and never its value. Other fields pass through in `raw`.
 */
function checkTokenResponse(body: unknown): { data: TokenResponseFields } | { issues: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { issues: ['(body) expected an object'] };
  const v = body as Record<string, unknown>;
  const issues: string[] = [];
  const take = <T>(field: string, checked: Checked<T>): T | undefined => {
    if ('issue' in checked) {
      issues.push(`${field} ${checked.issue}`);
      return undefined;
    }
    return checked.value;
  };

  let accessToken: string | undefined;
  if (typeof v.access_token !== 'string' || v.access_token.length === 0) {
    issues.push(`access_token must be a non-empty string`);
  } else if (!B64TOKEN.test(v.access_token)) {
    issues.push('access_token has characters RFC 6750 does not allow in a bearer token (only letters, digits and -._~+/ then =)');
  } else {
    accessToken = v.access_token;
  }
  const tokenType = take('token_type', optionalString(v.token_type));
  const expiresIn = take('expires_in', lifetime(v.expires_in));
  let refreshToken = take('refresh_token', optionalString(v.refresh_token));
  if (refreshToken !== undefined && !VSCHAR.test(refreshToken)) {
    issues.push('refresh_token has characters RFC 6749 does not allow (only visible ASCII and spaces)');
    refreshToken = undefined;
  }
  const refreshExpiresIn = take('refresh_expires_in', lifetime(v.refresh_expires_in));
  let scope: string | undefined;
  if (Array.isArray(v.scope)) {
    if (v.scope.every((s): s is string => typeof s === 'string')) scope = v.scope.join(' ');
    else issues.push('scope expected a string or an array of strings');
  } else if (v.scope !== undefined && v.scope !== null) {
    if (typeof v.scope === 'string') scope = v.scope;
    else issues.push('scope expected a string or an array of strings');
  }
  if (issues.length > 0 || accessToken === undefined) return { issues };
  return {
    data: {
      access_token: accessToken,
      token_type: tokenType,
      expires_in: expiresIn,
      refresh_token: refreshToken,
      refresh_expires_in: refreshExpiresIn,
      scope,
    },
  };
}

/**
 * The `exp` of a JWT in epoch ms, or undefined when the token is not a JWT or has no `exp`.
 * Reads the payload only, without verifying: expiry is a hint for when to refresh, never trust.
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function earliest(...times: Array<number | undefined>): number | undefined {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}

const HTML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes HTML character references, so that an entity-encoded secret is matched as itself. */
function decodeHtmlEntities(text: string): string {
  return text.replace(/&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z]+));/g, (m, dec?: string, hex?: string, name?: string) => {
    const code = dec !== undefined ? Number(dec) : hex !== undefined ? Number.parseInt(hex, 16) : undefined;
    if (code !== undefined) return code <= 0x10ffff ? String.fromCodePoint(code) : m;
    return HTML_ENTITIES[name!.toLowerCase()] ?? m;
  });
}

// Redact before squashing whitespace or cutting: either could hide part of a secret from the match.
function excerpt(text: string, secrets: SecretSet): string {
  let redacted: string;
  if (text.length > REDACTION_WINDOW) {
    redacted = secrets.redact(text.slice(0, REDACTION_WINDOW));
    redacted = redacted.slice(0, redacted.length - WINDOW_TAIL);
  } else {
    redacted = secrets.redact(text);
  }
  const flat = redacted.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}...` : flat;
}

/**
 * The text an excerpt is made from: the decoded value, so that escapes a server chose (`\/`,
 * `\uXXXX`, HTML entities) cannot hide a secret from redaction.
 */
function decodedText(res: TransportResponse): string {
  switch (res.body.kind) {
    case 'json':
      return JSON.stringify(res.body.value) ?? '';
    case 'html':
      return decodeJsonEscapes(decodeHtmlEntities(res.body.text));
    default:
      return decodeJsonEscapes(res.text);
  }
}

/**
 * Decodes JSON string escapes (`\uXXXX`, `\/`) in a body that was not parsed as JSON (a JSON
 * error served as text/html): an escape of every character would otherwise hide a secret.
 */
function decodeJsonEscapes(text: string): string {
  if (!text.includes('\\')) return text;
  return text
    .replace(/\\u([0-9A-Fa-f]{4})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\\\//g, '/');
}

/** The fields of an OAuth error body (RFC 6749 section 5.2), if the body is one. */
function oauthErrorBody(res: TransportResponse): { error: string; description?: string; uri?: string } | undefined {
  const value = res.body.kind === 'json' || res.body.kind === 'form' ? res.body.value : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const { error, error_description: description, error_uri: uri } = value as Record<string, unknown>;
  if (typeof error !== 'string' || error.length === 0) return undefined;
  return {
    error,
    ...(typeof description === 'string' ? { description } : {}),
    ...(typeof uri === 'string' ? { uri } : {}),
  };
}

/**
 * Whether an OAuth error body on this status is an OAuth error: RFC 6749 section 5.2 answers 400
 * (401 for client authentication); Keycloak and Spring also use 401 for other codes, and some
 * servers answer an error with 200. The same body on a 404 or a 500 is a wrong URL or a broken
 * server, not a verdict on the credentials.
 */
const isOAuthErrorStatus = (status: number): boolean => status === 400 || status === 401 || (status >= 200 && status < 300);

/** Turns an unsuccessful or unusable response into the matching typed error. */
export function responseError(res: TransportResponse, options: ProcessOptions): OAuthError | TokenEndpointError {
  const { where, secrets } = options;
  const oauth = oauthErrorBody(res);
  if (oauth && isOAuthErrorStatus(res.status)) {
    return new OAuthError({
      error: excerpt(oauth.error, secrets),
      errorDescription: oauth.description ? excerpt(oauth.description, secrets) : undefined,
      errorUri: oauth.uri ? excerpt(oauth.uri, secrets) : undefined,
      status: res.status,
      where,
    });
  }
  const common = { status: res.status, requestSent: true, bodyExcerpt: excerpt(decodedText(res), secrets) };
  if (res.status >= 300 && res.status < 400) {
    return new TokenEndpointError(
      `Token endpoint ${where} answered HTTP ${res.status}, a redirect; token requests do not follow redirects (they would resend the credentials elsewhere): configure the final token URL`,
      { ...common, code: ErrorCode.HTTP_STATUS },
    );
  }
  if (res.status < 200 || res.status >= 300) {
    const message = vendorMessage(res);
    const what =
      res.body.kind === 'html'
        ? 'an HTML page'
        : oauth
          ? `an OAuth-style error body ("${excerpt(oauth.error, secrets)}"), which is not an OAuth error on this status: check the token URL`
          : message
            ? `"${excerpt(message, secrets)}"`
            : 'no OAuth error body';
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

/** A non-OAuth error body of the `{ success: false, message }` shape some vendors use. */
function vendorMessage(res: TransportResponse): string | undefined {
  const v = res.body.kind === 'json' ? res.body.value : undefined;
  if (typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string') {
    return (v as { message: string }).message;
  }
  return undefined;
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
  const parsed = checkTokenResponse(res.body.value);
  if ('issues' in parsed) {
    const fields = parsed.issues.join('; ');
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
  const refreshToken = data.refresh_token;
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
    scope: data.scope,
    issuedAt: res.sentAt,
    raw: res.body.value as Record<string, unknown>,
  });
}
