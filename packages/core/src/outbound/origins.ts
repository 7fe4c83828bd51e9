/** Which hosts may receive a client's token: the one rule every outbound adapter applies. */
import { ConfigError } from '../errors.js';
import { isLoopback, ownOption } from '../validation.js';

/** Decides whether a request URL may carry the token. */
export type OriginMatcher = (url: URL | string) => boolean;

export interface OriginOptions {
  /**
   * Origins (`https://api.example.com`, or full URLs whose origin is taken) that get the token.
   * Default: the adapter's own base URL (an Axios instance's `baseURL`), else the client's `apiUrl`.
   * Never every host.
   */
  origins?: ReadonlyArray<string | URL> | undefined;
  /**
   * Allow plain `http:` origins off loopback, where anyone on the network path can read the token
   * (the same opt-in as `createTokenClient`'s). Without it such an origin, given in `origins` or
   * taken from the base URL, is a ConfigError. Loopback (`localhost`, `127.0.0.0/8`, `[::1]`) is
   * always allowed.
   * @default false
   */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

function originOf(value: string | URL, what: string, allowInsecureHttp: boolean): string {
  const text = String(value);
  if (!URL.canParse(text)) throw new ConfigError(`Invalid ${what}`, [{ path: what, message: 'must be an absolute URL' }]);
  const url = new URL(text);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`Invalid ${what}`, [{ path: what, message: 'must be an http(s) URL' }]);
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopback(url)) {
    throw new ConfigError(`Invalid ${what}`, [
      {
        path: what,
        message:
          'must use https: plain http would send the token readable to anyone on the network path, so it is ' +
          'accepted on loopback only (localhost, 127.0.0.0/8, [::1]); pass dangerouslyAllowInsecureHttp: true to allow it',
      },
    ]);
  }
  return url.origin;
}

/**
 * The origin matcher for an adapter: explicit `origins`, else `fallbacks` in order (an instance's
 * base URL, the client's apiUrl). Throws ConfigError when there is nothing to match (sending the
 * token to every host is never a default), and for a plain-http origin off loopback unless
 * `dangerouslyAllowInsecureHttp` is set.
 *
 * @example
 * const allowed = allowedOrigins({ origins: ['https://api.example.com'] });
 * allowed('https://api.example.com/v1/x'); // true
 * allowed('https://evil.example.net/'); // false
 */
export function allowedOrigins(options: OriginOptions, ...fallbacks: Array<string | URL | undefined>): OriginMatcher {
  // Own properties only: an inherited `origins` (a polluted prototype) must never widen where the token goes.
  const insecure = ownOption(options, 'dangerouslyAllowInsecureHttp') === true;
  const given = ownOption<OriginOptions['origins']>(options, 'origins');
  let origins: Set<string>;
  if (given !== undefined) {
    if (!Array.isArray(given)) {
      throw new ConfigError('Invalid origins', [{ path: 'origins', message: 'must be an array of URLs' }]);
    }
    origins = new Set(given.map((o, i) => originOf(o, `origins[${i}]`, insecure)));
  } else {
    const fallback = fallbacks.find((f) => f !== undefined && String(f) !== '');
    if (fallback === undefined) {
      throw new ConfigError(
        'No origin to send the token to: pass `origins`, or give the client an apiUrl (or the instance a baseURL)',
      );
    }
    origins = new Set([originOf(fallback, 'apiUrl', insecure)]);
  }
  return (url) => {
    const text = String(url);
    return URL.canParse(text) && origins.has(new URL(text).origin);
  };
}
