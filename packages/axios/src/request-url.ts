/**
 * Where axios sends a request, and whether its origin may get the token: the hot path of the
 * request interceptor. `getUri()` merges the whole config with the defaults again, the largest
 * cost of a warm request, so the common forms are resolved here with axios's own rules, and
 * anything whose handling differs between axios versions is left to `getUri()`.
 */
import type { OriginMatcher } from '@prodo-auth/core';
import type { InternalAxiosRequestConfig } from 'axios';

// Axios's isAbsoluteURL: "scheme://" or "//" (every 1.x).
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;
// The scheme and authority of an http(s) URL made of host characters only (no userinfo, escape,
// backslash, whitespace), ending where the path, query or fragment starts: URL parsing reads the
// same origin from this prefix alone as from the whole URL, so the answer can be cached per prefix.
const PLAIN_ORIGIN = /^https?:\/\/(?:[a-z\d.-]+|\[[\da-f:.]+\])(?::\d*)?(?=[/?#]|$)/i;
// Both the URL parser and every axios version read an http(s) URL with "//" the same way.
const HTTP_URL = /^https?:\/\//i;
/** Distinct origin prefixes remembered; a service calls a handful. */
const MAX_CACHED = 256;

/**
 * The URL axios sends `config` to, without `params` (which never change the origin: axios
 * appends them after a `?`). An absolute `url` wins over `baseURL`, except with
 * `allowAbsoluteUrls: false`, which axios 1.8+ honours and older versions ignore: that case, and
 * any value that is not a string, is resolved by `getUri()`.
 */
export function requestUrl(config: InternalAxiosRequestConfig, getUri: () => string): string {
  const { url = '', baseURL, allowAbsoluteUrls } = config;
  if (typeof url !== 'string' || (baseURL !== undefined && baseURL !== null && typeof baseURL !== 'string')) return getUri();
  if (ABSOLUTE.test(url)) {
    if (baseURL && allowAbsoluteUrls !== undefined && allowAbsoluteUrls !== true) return getUri();
    return url;
  }
  // No baseURL: a relative or scheme-less URL, which the origin check refuses.
  if (!baseURL) return url;
  // Axios's combineURLs.
  return url === '' ? baseURL : `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

/**
 * `allowed` for request URLs, its answer remembered per origin prefix. A URL whose origin is not
 * plainly written is parsed in full every time; one that is not an http(s) URL with `//` (a
 * protocol-relative `//host`, `http:host`, leading whitespace) never gets the token, as axios
 * versions and the URL parser disagree on where it goes.
 */
export function originGate(allowed: OriginMatcher): (url: string) => boolean {
  const answers = new Map<string, boolean>();
  return (url) => {
    const prefix = PLAIN_ORIGIN.exec(url)?.[0];
    if (prefix === undefined) return HTTP_URL.test(url) && allowed(url);
    let answer = answers.get(prefix);
    if (answer === undefined) {
      answer = allowed(prefix);
      if (answers.size >= MAX_CACHED) answers.clear();
      answers.set(prefix, answer);
    }
    return answer;
  };
}
