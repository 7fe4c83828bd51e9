/** `returnTo`: where a login sends the browser back to, limited to paths of this site. */

/** Longest `returnTo` kept; a longer one is more likely an attack than a page. */
const MAX_LENGTH = 2048;
/** How many rounds of percent-decoding are inspected (`%252F` is `/` after two). */
const DECODE_ROUNDS = 4;
const BASE = 'http://return-to.invalid';

// Control characters (which URL parsers drop, turning `/\t/evil` into `//evil`), backslashes
// (which browsers read as `/`), and a second slash at the start (a protocol-relative URL).
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNSAFE = /[\u0000-\u001f\u007f\\]|^\/\//;

/**
 * The same-site relative path in `value`, or `/` when it is anything else: an absolute or
 * protocol-relative URL (`https://evil`, `//evil`, `/\evil`), a `javascript:` URL, a path with a
 * backslash or a control character, or a percent-encoded form of any of those. The result is
 * normalised (`/a/../b` is `/b`, non-ASCII is percent-encoded), so it is safe in a `Location` header.
 *
 * @param value - the untrusted `returnTo`, usually a query parameter
 * @example
 * safeReturnTo('/orders?page=2'); // '/orders?page=2'
 * safeReturnTo('//evil.example'); // '/'
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH || !value.startsWith('/')) return '/';
  let seen = value;
  for (let round = 0; round < DECODE_ROUNDS; round++) {
    if (UNSAFE.test(seen)) return '/';
    let decoded: string;
    try {
      decoded = decodeURIComponent(seen);
    } catch {
      return '/';
    }
    if (decoded === seen) break;
    // A path that decodes to something that is not a path was built to be decoded somewhere.
    if (!decoded.startsWith('/')) return '/';
    seen = decoded;
  }
  if (UNSAFE.test(seen)) return '/';
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE) return '/';
  const path = url.pathname + url.search + url.hash;
  return UNSAFE.test(path) ? '/' : path;
}
