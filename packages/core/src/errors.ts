/**
 * Error classes and their stable codes. Every message is built from redacted text only: no error
 * of this package ever carries a password, client secret, access or refresh token.
 */

/** Stable error codes; match on these, not on messages. */
export const ErrorCode = {
  /** Options or environment variables are missing or invalid. */
  CONFIG: 'ERR_PRODO_AUTH_CONFIG',
  /** The token endpoint answered with an OAuth error (`error`, `error_description`). */
  OAUTH: 'ERR_PRODO_AUTH_OAUTH',
  /** The token endpoint answered with an HTTP error that is not an OAuth error body. */
  HTTP_STATUS: 'ERR_PRODO_AUTH_HTTP_STATUS',
  /** The token endpoint could not be reached, or the connection broke. */
  NETWORK: 'ERR_PRODO_AUTH_NETWORK',
  /** The token request did not complete within `timeoutMs`. */
  TIMEOUT: 'ERR_PRODO_AUTH_TIMEOUT',
  /** The token endpoint's response exceeded the size cap. */
  RESPONSE_TOO_LARGE: 'ERR_PRODO_AUTH_RESPONSE_TOO_LARGE',
  /** The token endpoint's response was not a valid token response (not JSON, HTML, wrong types). */
  INVALID_RESPONSE: 'ERR_PRODO_AUTH_INVALID_RESPONSE',
  /** No valid token and no way to get one without the user: log in again. */
  REAUTHENTICATION_REQUIRED: 'ERR_PRODO_AUTH_REAUTHENTICATION_REQUIRED',
  /** The client was closed. */
  CLOSED: 'ERR_PRODO_AUTH_CLOSED',
  /** The API rejected the token and the request body was a stream, which cannot be sent again. */
  BODY_NOT_REPLAYABLE: 'ERR_PRODO_AUTH_BODY_NOT_REPLAYABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const BRAND = Symbol.for('prodo-auth.error');

export interface ProdoAuthErrorOptions {
  code?: ErrorCode;
  cause?: unknown;
}

/** Base class of every error thrown by prodo-auth. */
export class ProdoAuthError extends Error {
  /** A stable code from {@link ErrorCode}. */
  readonly code: ErrorCode;

  constructor(message: string, options: ProdoAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
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
    super(`${options.error}${description} (HTTP ${options.status})`, { code: ErrorCode.OAUTH, cause: options.cause });
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
