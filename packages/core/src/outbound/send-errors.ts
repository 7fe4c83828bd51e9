/**
 * Sending a request that carries the token, safely: the headers the client adds are checked before
 * anything is built from them, and whatever fails while the request is built or sent reaches the
 * caller as a typed error that never holds the token (fetch's and undici's own errors print header
 * values as they are).
 */
import { inspect } from 'node:util';
import { ConfigError, ErrorCode, ProdoAuthError } from '../errors.js';
import { SecretSet } from '../redact.js';

// RFC 9110 section 5.1 (field names) and 5.5 (field values: visible characters, space, tab, obs-text).
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Header values already checked, per header name: a warm token is checked once, not per request. */
export type CheckedHeaders = Map<string, string>;

/**
 * Throws when a header the client adds (`authorization`, an API header) cannot be sent: a token
 * with CR, LF or NUL in it would otherwise reach fetch, which rejects it with a message that
 * prints the whole value. The error names the header, never the value.
 *
 * @internal
 */
export function assertSendable(added: Record<string, string>, checked: CheckedHeaders): void {
  for (const name in added) {
    const value = added[name]!;
    if (checked.get(name) === value) continue;
    if (name === 'authorization') {
      if (!FIELD_VALUE.test(value)) {
        throw new ProdoAuthError(
          'The access token cannot be sent in an HTTP header: it contains a control character (such as CR, LF or NUL) ' +
            'or a character above U+00FF, so the request was not sent. The token came from the token endpoint ' +
            '(or a custom Grant\'s obtain()/refresh()): fix what issues it.',
          { code: ErrorCode.INVALID_RESPONSE },
        );
      }
    } else if (!FIELD_NAME.test(name) || !FIELD_VALUE.test(value)) {
      throw new ConfigError('Invalid apiHeaders', [
        {
          path: `apiHeaders.${FIELD_NAME.test(name) ? name : '(a header name)'}`,
          message: 'must be a valid HTTP header name and value (no control characters such as CR, LF or NUL)',
        },
      ]);
    }
    if (checked.size >= 32) checked.clear();
    checked.set(name, value);
  }
}

/** The forms a header value takes in an error's text or its inspect output. */
function forms(secret: string): string[] {
  return [secret, JSON.stringify(secret).slice(1, -1), inspect(secret).slice(1, -1), encodeURIComponent(secret)];
}

function mentionsSecret(text: string, secrets: readonly string[]): boolean {
  return secrets.some((s) => s.length > 0 && forms(s).some((f) => text.includes(f)));
}

/**
 * True when an error, anywhere in it (message, stack, causes, any property), holds one of `secrets`.
 *
 * @internal
 */
export function holdsSecret(error: unknown, secrets: readonly string[]): boolean {
  return mentionsSecret(inspect(error, { showHidden: true, depth: 10 }), secrets);
}

/** `Name: message [code]` of an error and its causes, a few levels deep. */
function describeChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      parts.push(`${current.name}: ${current.message}${typeof code === 'string' ? ` [${code}]` : ''}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(' <- ');
}

/**
 * The error a caller gets when a request carrying the token could not be built or sent. The
 * original error is its `cause` only when nothing in it (message, stack, causes, any property)
 * holds one of `secrets`; otherwise it is dropped, and the message says why.
 *
 * @param error What fetch or the dispatcher threw.
 * @param secrets The header values the client added to the request (the `Authorization` value).
 * @param method The request method, for the message.
 * @param href The request URL; only its origin and path reach the message (a query may hold secrets).
 * @internal
 */
export function sendError(error: unknown, secrets: readonly string[], method: string, href: string): ProdoAuthError {
  const url = URL.canParse(href) ? new URL(href) : undefined;
  const where = url === undefined ? method : `${method} ${url.origin}${url.pathname}`;
  const leaks = holdsSecret(error, secrets);
  const detail = leaks
    ? `${error instanceof Error && !mentionsSecret(error.name, secrets) ? error.name : 'an error'}; its details are left out because they contain the access token`
    : new SecretSet().add(...secrets).redact(describeChain(error));
  return new ProdoAuthError(`${where}: the request to the API could not be sent (${detail})`, {
    code: ErrorCode.NETWORK,
    cause: leaks ? undefined : error,
  });
}
