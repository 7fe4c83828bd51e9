/**
 * Error classes and their stable codes. Every message is built from redacted text only: no error
 * of this package ever carries a password, client secret, access or refresh token, and a foreign
 * error (undici's, a socket's) is never attached as `cause` as it is, only as a sanitized copy.
 */
import { redactPatterns } from './redact.js';

/** Stable error codes; match on these, not on messages. */
export const ErrorCode = {
  /** Options or environment variables are missing or invalid. */
  CONFIG: 'ERR_PRODO_AUTH_CONFIG',
  /** The token endpoint answered with an OAuth error (`error`, `error_description`). */
  OAUTH: 'ERR_PRODO_AUTH_OAUTH',
  /** The token endpoint answered with an HTTP error that is not an OAuth error body. */
  HTTP_STATUS: 'ERR_PRODO_AUTH_HTTP_STATUS',
  /** The token endpoint (or, for an outbound call, the API) could not be reached, or the connection broke. */
  NETWORK: 'ERR_PRODO_AUTH_NETWORK',
  /** The token request did not complete within `timeoutMs`. */
  TIMEOUT: 'ERR_PRODO_AUTH_TIMEOUT',
  /** The token endpoint's response exceeded the size cap. */
  RESPONSE_TOO_LARGE: 'ERR_PRODO_AUTH_RESPONSE_TOO_LARGE',
  /** The token endpoint's response was not a valid token response (not JSON, HTML, wrong types). */
  INVALID_RESPONSE: 'ERR_PRODO_AUTH_INVALID_RESPONSE',
  /** The token store failed, or did not answer within `timeoutMs`; the client carries on with what it has in memory. */
  STORE: 'ERR_PRODO_AUTH_STORE',
  /** A token store returned a value that is not a stored token set (another version, a stray key). */
  INVALID_STORED_VALUE: 'ERR_PRODO_AUTH_INVALID_STORED_VALUE',
  /** No valid token and no way to get one without the user: log in again. */
  REAUTHENTICATION_REQUIRED: 'ERR_PRODO_AUTH_REAUTHENTICATION_REQUIRED',
  /** The client was closed. */
  CLOSED: 'ERR_PRODO_AUTH_CLOSED',
  /** The API rejected the token and the request body was a stream, which cannot be sent again. */
  BODY_NOT_REPLAYABLE: 'ERR_PRODO_AUTH_BODY_NOT_REPLAYABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const BRAND = Symbol.for('prodo-auth.error');
const SANITIZED = Symbol.for('prodo-auth.sanitized-cause');
/** How deep a foreign cause chain is copied; what lies beyond is dropped. */
const MAX_CAUSE_DEPTH = 4;

export interface ProdoAuthErrorOptions {
  code?: ErrorCode;
  /**
   * The error that led to this one. A prodo-auth error is kept as it is; any other error is
   * replaced by a sanitized copy (see {@link sanitizeCause}); a value that is not an error is dropped.
   */
  cause?: unknown;
}

/**
 * A secret-free copy of a foreign error, for use as a `cause`: its `name`, its `code` when that is
 * a string, its message redacted, its stack frames, and its own cause sanitized the same way, to a
 * bounded depth. Nothing else is copied: undici's parser error keeps the request as sent (Basic
 * credentials, the form body with the password) in `data`, and `util.inspect` prints every own
 * property. Prodo-auth errors (of any copy of the package) are returned as they are; anything that
 * is not an Error gives undefined.
 *
 * @param error - the error to copy
 * @param redactText - redaction for the message; the default masks token-shaped strings only, so
 *   pass one that knows the request's secrets when there is one
 */
export function sanitizeCause(
  error: unknown,
  redactText: (text: string) => string = redactPatterns,
  depth = 0,
): Error | undefined {
  if (isProdoAuthError(error) || isSanitized(error)) return error as Error;
  if (!(error instanceof Error) || depth >= MAX_CAUSE_DEPTH) return undefined;
  const message = redactText(typeof error.message === 'string' ? error.message : '');
  const cause = sanitizeCause(error.cause, redactText, depth + 1);
  const copy = new Error(message, cause === undefined ? undefined : { cause });
  const name = typeof error.name === 'string' ? error.name : 'Error';
  Object.defineProperty(copy, 'name', { value: name, configurable: true, writable: true });
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  // The frames say where it failed; the first line of a stack repeats the unredacted message.
  const frames = typeof error.stack === 'string' ? error.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
  copy.stack = [`${name}: ${message}`, ...frames].join('\n');
  Object.defineProperty(copy, SANITIZED, { value: true });
  return copy;
}

function isSanitized(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SANITIZED] === true;
}

/** Base class of every error thrown by prodo-auth. */
export class ProdoAuthError extends Error {
  /** A stable code from {@link ErrorCode}. */
  readonly code: ErrorCode;

  constructor(message: string, options: ProdoAuthErrorOptions = {}) {
    const cause = sanitizeCause(options.cause);
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = options.code ?? ErrorCode.CONFIG;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True for any prodo-auth error, also one thrown by another copy of the package (duplicate
 * installs make `instanceof` unreliable).
 */
export function isProdoAuthError(value: unknown): value is ProdoAuthError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

export interface ConfigIssue {
  /** The option path or environment variable that is wrong, e.g. `tokenUrl` or `PRODO_AUTH_CLIENT_ID`. */
  readonly path: string;
  /** What is wrong with it. Never contains the value. */
  readonly message: string;
}

/** Invalid or missing options. Names every bad setting; never prints a value. */
export class ConfigError extends ProdoAuthError {
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[] = []) {
    super(
      issues.length === 0 ? message : `${message}:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
      { code: ErrorCode.CONFIG },
    );
    this.issues = issues;
  }
}

export interface OAuthErrorOptions {
  error: string;
  errorDescription?: string | undefined;
  errorUri?: string | undefined;
  status: number;
  /** The token endpoint that answered (origin and path), for the message. */
  where?: string | undefined;
  cause?: unknown;
}

/**
 * The token endpoint answered with an OAuth error (RFC 6749 section 5.2).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthError extends ProdoAuthError {
  /** The `error` code, e.g. `invalid_grant`. */
  readonly error: string;
  /** The server's `error_description`, redacted. */
  readonly errorDescription: string | undefined;
  readonly errorUri: string | undefined;
  /** The HTTP status of the response. */
  readonly status: number;

  constructor(options: OAuthErrorOptions) {
    const description = options.errorDescription ? `: ${options.errorDescription}` : '';
    const prefix = options.where ? `Token endpoint ${options.where} answered with OAuth error ` : '';
    super(`${prefix}${options.error}${description} (HTTP ${options.status})`, { code: ErrorCode.OAUTH, cause: options.cause });
    this.error = options.error;
    this.errorDescription = options.errorDescription;
    this.errorUri = options.errorUri;
    this.status = options.status;
  }
}

export interface TokenEndpointErrorOptions {
  code: ErrorCode;
  status?: number | undefined;
  /**
   * False when the request certainly never reached the server (connection refused, DNS failure),
   * so a single-use credential in it was not spent.
   */
  requestSent: boolean;
  /** A short, redacted excerpt of the response body. */
  bodyExcerpt?: string | undefined;
  cause?: unknown;
}

/** The token endpoint failed at the HTTP or network level, or answered with something unusable. */
export class TokenEndpointError extends ProdoAuthError {
  /** The HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** Whether the server may have received and acted on the request. */
  readonly requestSent: boolean;
  /** A short, redacted excerpt of the response body, for diagnosis. */
  readonly bodyExcerpt: string | undefined;

  constructor(message: string, options: TokenEndpointErrorOptions) {
    super(message, { code: options.code, cause: options.cause });
    this.status = options.status;
    this.requestSent = options.requestSent;
    this.bodyExcerpt = options.bodyExcerpt;
  }
}

/** There is no valid token and no credentials to get one without the user: send them to log in. */
export class ReauthenticationRequiredError extends ProdoAuthError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: ErrorCode.REAUTHENTICATION_REQUIRED, cause: options.cause });
  }
}

/**
 * The HTTP status an application should answer with when a prodo-auth error ends a request: 401
 * when the user must log in again, 502 when the authorization server failed us, 500 otherwise.
 */
export function httpStatusForError(error: unknown): number {
  if (!isProdoAuthError(error)) return 500;
  switch (error.code) {
    case ErrorCode.REAUTHENTICATION_REQUIRED:
      return 401;
    case ErrorCode.OAUTH:
    case ErrorCode.HTTP_STATUS:
    case ErrorCode.NETWORK:
    case ErrorCode.TIMEOUT:
    case ErrorCode.RESPONSE_TOO_LARGE:
    case ErrorCode.INVALID_RESPONSE:
      return 502;
    default:
      return 500;
  }
}
