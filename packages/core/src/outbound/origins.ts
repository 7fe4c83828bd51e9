/** Which hosts may receive a client's token: the one rule every outbound adapter applies. */
import { ConfigError } from '../errors.js';

/** Decides whether a request URL may carry the token. */
export type OriginMatcher = (url: URL | string) => boolean;

export interface OriginOptions {
  /**
   * Origins (`https://api.example.com`, or full URLs whose origin is taken) that get the token.
   * Default: the adapter's own base URL (an Axios instance's `baseURL`), else the client's `apiUrl`.
   * Never every host.
   */
  origins?: ReadonlyArray<string | URL> | undefined;
}

function originOf(value: string | URL, what: string): string {
  const text = String(value);
  if (!URL.canParse(text)) throw new ConfigError(`Invalid ${what}`, [{ path: what, message: 'must be an absolute URL' }]);
  const url = new URL(text);
  if (url.origin === 'null') throw new ConfigError(`Invalid ${what}`, [{ path: what, message: 'must be an http(s) URL' }]);
  return url.origin;
}

/**
 * The origin matcher for an adapter: explicit `origins`, else `fallbacks` in order (an instance's
 * base URL, the client's apiUrl). Throws ConfigError when there is nothing to match: sending the
 * token to every host is never a default.
 *
 * @example
 * const allowed = allowedOrigins({ origins: ['https://api.example.com'] });
 * allowed('https://api.example.com/v1/x'); // true
 * allowed('https://evil.example.net/'); // false
 */
export function allowedOrigins(options: OriginOptions, ...fallbacks: Array<string | URL | undefined>): OriginMatcher {
  let origins: Set<string>;
  if (options.origins !== undefined) {
    origins = new Set(options.origins.map((o, i) => originOf(o, `origins[${i}]`)));
  } else {
    const fallback = fallbacks.find((f) => f !== undefined && String(f) !== '');
    if (fallback === undefined) {
      throw new ConfigError(
        'No origin to send the token to: pass `origins`, or give the client an apiUrl (or the instance a baseURL)',
      );
    }
    origins = new Set([originOf(fallback, 'apiUrl')]);
  }
  return (url) => {
    const text = String(url);
    return URL.canParse(text) && origins.has(new URL(text).origin);
  };
}
