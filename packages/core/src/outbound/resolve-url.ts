/**
 * Where an outbound request goes: one resolution, shared by `TokenClient#fetch` and
 * `createAuthorizedFetch`, whose answer is both what the origin check looks at and what is sent.
 */
import { ConfigError } from '../errors.js';

/** A request URL, resolved once: `href` is what is sent, `origin` what the token rule judges. */
export interface ResolvedUrl {
  readonly href: string;
  readonly origin: string;
}

/** Resolves a request input (a string, or a URL's href) against one base URL. */
export type UrlResolver = (input: string) => ResolvedUrl;

/** Distinct inputs remembered per resolver: a service calls a handful of paths, ids make more. */
const CACHE_SIZE = 256;

// What the WHATWG URL parser ignores around and inside an input, before it reads anything.
const C0_OR_SPACE_AROUND = /^[\0-\x20]+|[\0-\x20]+$/g;
const TAB_OR_NEWLINE = /[\t\n\r]/g;
// After those are gone: two slashes (a backslash is a slash in http(s) URLs) start a host.
const NETWORK_PATH = /^[/\\]{2}/;
const LEADING_SLASHES = /^[/\\]+/;

function resolved(url: URL): ResolvedUrl {
  return { href: url.href, origin: url.origin };
}

/**
 * The resolver for requests of a client whose API lives at `base` (its apiUrl).
 *
 * - An input that is an absolute URL on its own stays exactly that URL, as fetch would parse it
 *   alone: `http:evil.example/x` is the host `evil.example`, never a path under the API.
 * - A network-path reference (`//other.host/x`) keeps its own host and takes the API's scheme, as
 *   in a browser.
 * - Anything else (`/users`, `users`, `?page=2`) is joined onto the API's path with one slash
 *   between, as axios's `baseURL` does: with `https://host/api`, `/users` is `https://host/api/users`.
 *
 * The answer is the URL to send: checking one string and sending another is how a token leaks.
 *
 * @throws ConfigError for a relative input when there is no base, or an input no URL parser accepts.
 */
export function urlResolver(base: string | undefined): UrlResolver {
  const baseUrl = base === undefined || !URL.canParse(base) ? undefined : new URL(base);
  // The API's path without its trailing slashes; its query and fragment never carry over.
  const prefix = baseUrl === undefined ? '' : `${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}`;

  const resolveOnce = (input: string): ResolvedUrl => {
    if (URL.canParse(input)) return resolved(new URL(input));
    if (baseUrl === undefined) {
      throw new ConfigError("A relative URL needs the client's apiUrl: pass an absolute URL, or give the client an apiUrl");
    }
    const trimmed = input.replace(C0_OR_SPACE_AROUND, '');
    if (NETWORK_PATH.test(trimmed.replace(TAB_OR_NEWLINE, ''))) {
      if (!URL.canParse(trimmed, baseUrl.href)) throw new ConfigError('Invalid request URL: its host cannot be parsed');
      return resolved(new URL(trimmed, baseUrl));
    }
    const rest = trimmed.replace(LEADING_SLASHES, '');
    return resolved(new URL(rest === '' ? `${baseUrl.origin}${baseUrl.pathname}` : `${prefix}/${rest}`));
  };

  const cache = new Map<string, ResolvedUrl>();
  return (input) => {
    let answer = cache.get(input);
    if (answer === undefined) {
      answer = resolveOnce(input);
      if (cache.size >= CACHE_SIZE) cache.clear();
      cache.set(input, answer);
    }
    return answer;
  };
}
