/**
 * Outbound calls with the token: a fetch that authorizes requests to the API's origins, and the
 * send-with-retry step it shares with `TokenClient#fetch`.
 */
import { ConfigError, ErrorCode, ProdoAuthError } from '../errors.js';
import type { TokenClient } from '../token-client.js';
import { isReplayable, isTokenRejection } from './rejection.js';
import { allowedOrigins } from './origins.js';

/** Any function with the shape of fetch: the global one, undici's, a wrapper of either. */
export type FetchFunction = (input: never, init?: never) => Promise<unknown>;

export interface AuthorizedFetchOptions<TFetch extends FetchFunction = typeof globalThis.fetch> {
  /**
   * Origins (`https://api.example.com`, or full URLs whose origin is taken) whose requests get the
   * token. Requests to any other origin pass through untouched. Never every host.
   * @default [the origin of client.apiUrl]
   */
  origins?: ReadonlyArray<string | URL> | undefined;
  /**
   * The fetch to send through, e.g. undici's `fetch` bound to your own dispatcher. It must follow
   * the fetch standard on redirects and drop `Authorization` when a redirect leaves the origin, as
   * Node's and undici's fetch do.
   * @default globalThis.fetch
   */
  fetch?: TFetch | undefined;
}

/** The parts of a request init the retry step reads; the global and undici's RequestInit fit. */
interface FetchInit {
  method?: string | undefined;
  headers?: unknown;
  body?: unknown;
}

/** The parts of a Request input the retry step reads. */
interface FetchRequest {
  readonly method: string;
  readonly headers: unknown;
  readonly body: unknown;
}

/** The parts of a response the retry step reads; the global and undici's Response fit. */
interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: { cancel(reason?: unknown): Promise<void> } | null;
  readonly url: string;
  readonly redirected: boolean;
}

/**
 * The access token in an `Authorization` value: what follows the scheme (`Bearer`, later `DPoP`).
 * Adapters use it to remember which token a request carried, so its 401 invalidates that one.
 *
 * @example
 * tokenOf('Bearer abc'); // 'abc'
 */
export function tokenOf(authorization: string | undefined): string {
  return authorization === undefined ? '' : authorization.replace(/^\S+\s+/, '');
}

/**
 * The error for a token rejection that cannot be retried because the body was a stream. The
 * rejected response rides along as a non-enumerable `response`, so logging the error never dumps it.
 * Shared by every outbound adapter.
 */
export function bodyNotReplayableError(response: unknown, status: number, method: string, url: URL): ProdoAuthError {
  const error = new ProdoAuthError(
    `${method} ${url.origin}${url.pathname}: the API rejected the access token (HTTP ${status}) and the ` +
      'request body is a stream, which cannot be sent a second time, so the request was not retried. ' +
      'The token was invalidated: the next request gets a new one. To have such requests retried ' +
      'automatically, buffer the body (a string, Uint8Array, Blob, FormData or URLSearchParams) ' +
      'instead of passing a ReadableStream, or a Request that carries a body. ' +
      'The rejected response is in error.response.',
    { code: ErrorCode.BODY_NOT_REPLAYABLE },
  );
  Object.defineProperty(error, 'response', { value: response, enumerable: false, configurable: true });
  return error;
}

/** A request's headers as lowercase `[name, value]` pairs; `Headers` validates every shape fetch accepts. */
function headerPairs(init: unknown): Array<[string, string]> {
  if (init === undefined || init === null) return [];
  return [...new Headers(init as ConstructorParameters<typeof Headers>[0])];
}

function hasHeader(pairs: ReadonlyArray<readonly [string, string]>, name: string): boolean {
  return pairs.some(([n]) => n === name);
}

/** True when fetch followed redirects to another origin: fetch dropped the token on the way. */
function answeredElsewhere(response: FetchResponse, url: URL): boolean {
  return response.redirected && URL.canParse(response.url) && new URL(response.url).origin !== url.origin;
}

/**
 * Sends one request with the client's headers for it and, when the API rejects the token,
 * invalidates exactly that token and sends the request once more with a new one. Shared by
 * `createAuthorizedFetch` and `TokenClient#fetch`; `url` must already be an allowed origin.
 *
 * @internal
 */
export async function fetchWithToken<TInit extends FetchInit, TResponse extends FetchResponse>(
  client: TokenClient,
  url: URL,
  init: TInit,
  send: (init: TInit) => Promise<TResponse>,
  request?: FetchRequest,
): Promise<TResponse> {
  // init.headers replaces a Request's headers as a whole, as `new Request(request, init)` does.
  const callerHeaders = headerPairs(init.headers ?? request?.headers);
  // The caller brought its own credentials: not ours to replace, and not ours to retry.
  if (hasHeader(callerHeaders, 'authorization')) return send(init);
  const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
  const replayable = init.body !== undefined ? isReplayable(init.body) : (request?.body ?? null) === null;

  // Token first, then the request: a caller waiting for a token holds no socket.
  const attempt = async (): Promise<{ token: string; response: TResponse }> => {
    const added = await client.requestHeaders({ method, url });
    const headers = [...callerHeaders];
    for (const [name, value] of Object.entries(added)) {
      if (name === 'authorization' || !hasHeader(callerHeaders, name)) headers.push([name, value]);
    }
    return { token: tokenOf(added.authorization), response: await send({ ...init, headers }) };
  };

  const { token, response } = await attempt();
  if (!isTokenRejection(response) || answeredElsewhere(response, url)) return response;
  if (!replayable) {
    await client.invalidate(token);
    throw bodyNotReplayableError(response, response.status, method, url);
  }
  // Free the connection before the retry takes another one.
  await response.body?.cancel().catch(() => undefined);
  await client.invalidate(token);
  return (await attempt()).response;
}

/**
 * Wraps `fetch` so that requests to the API's origins carry the client's token and API headers.
 *
 * - Only allowed origins get the token: by default the origin of `client.apiUrl`, never every
 *   host; requests to other origins pass through untouched.
 * - A relative path resolves against `client.apiUrl`.
 * - A request that sets its own `Authorization` is left alone: no token, no retry. The client's
 *   API headers (a vendor's media type) are added only where the request does not set them.
 * - A 401, or a `Bearer error="invalid_token"` challenge, invalidates exactly the token that
 *   request used and retries it once with a new one; a second rejection reaches the caller intact.
 * - A body that cannot be sent twice (a `ReadableStream`, a `Request` with a body) is not
 *   retried: the token is invalidated and the call rejects with `ErrorCode.BODY_NOT_REPLAYABLE`,
 *   the rejected response in the error's non-enumerable `response`.
 * - The token is fetched before the request starts; a token endpoint failure rejects with the
 *   client's typed error (`TokenEndpointError`, `OAuthError`...) within its `timeoutMs`.
 * - A redirect to another origin never carries the token: fetch drops `Authorization` there.
 *
 * @param client The token client whose tokens to send.
 * @param options Which origins get the token, and the fetch to send through.
 * @returns A function with the signature of the fetch it wraps (`globalThis.fetch` by default).
 * @throws ConfigError when there is no origin to send the token to (no `origins`, no `apiUrl`).
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 (the `invalid_token` challenge)
 *
 * @example
 * const client = createTokenClient({
 *   grant: clientCredentialsGrant({ tokenUrl, clientId: 'svc', clientSecret: process.env.SECRET! }),
 *   apiUrl: 'https://api.example.com',
 * });
 * const apiFetch = createAuthorizedFetch(client);
 * const res = await apiFetch('/v1/things', { method: 'POST', body: JSON.stringify({ name: 'x' }) });
 */
export function createAuthorizedFetch<TFetch extends FetchFunction = typeof globalThis.fetch>(
  client: TokenClient,
  options: AuthorizedFetchOptions<TFetch> = {},
): TFetch {
  const allowed = allowedOrigins({ origins: options.origins }, client.apiUrl);
  // allowedOrigins' answer per origin, remembered: a service calls a handful of origins.
  const seen = new Map<string, boolean>();
  const isAllowed = (origin: string): boolean => {
    let answer = seen.get(origin);
    if (answer === undefined) {
      answer = allowed(origin);
      if (seen.size >= 256) seen.clear();
      seen.set(origin, answer);
    }
    return answer;
  };
  const base = client.apiUrl;
  const authorizedFetch: typeof globalThis.fetch = async (input, init) => {
    // Read the global at call time, so a fetch installed later (a test recorder) is used.
    const send = (options.fetch ?? globalThis.fetch) as typeof globalThis.fetch;
    const request = typeof input === 'object' && !(input instanceof URL) ? input : undefined;
    const href = request === undefined ? String(input) : request.url;
    const absolute = URL.canParse(href);
    if (!absolute && (base === undefined || !URL.canParse(href, base))) {
      throw new ConfigError("A relative URL needs the client's apiUrl: pass an absolute URL, or give the client an apiUrl");
    }
    const url = new URL(href, base);
    // A relative path is sent as the URL it resolved to; anything else exactly as given.
    const target = absolute ? input : url;
    if (!isAllowed(url.origin)) return send(target, init);
    return fetchWithToken(client, url, init ?? {}, (i) => send(target, i), request);
  };
  // Same signature as the fetch it wraps: the global fetch's by default, undici's when given it.
  return authorizedFetch as unknown as TFetch;
}
