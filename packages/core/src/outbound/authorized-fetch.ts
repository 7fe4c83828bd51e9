/**
 * Outbound calls with the token: a fetch that authorizes requests to the API's origins, and the
 * send-with-retry step it shares with `TokenClient#fetch`.
 */
import { loadUndici } from '../load-undici.js';
import { ErrorCode, isProdoAuthError, ProdoAuthError } from '../errors.js';
import type { TokenClient } from '../token-client.js';
import { isReplayable, isTokenRejection } from './rejection.js';
import { allowedOrigins } from './origins.js';
import { urlResolver, type ResolvedUrl } from './resolve-url.js';
import { assertSendable, sendError, type CheckedHeaders } from './send-errors.js';
import { ownOption } from '../validation.js';

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
   * Allow plain `http:` origins off loopback, where anyone on the network path can read the token.
   * Without it such an origin (in `origins`, or the client's apiUrl) is a ConfigError; loopback
   * (`localhost`, `127.0.0.0/8`, `[::1]`) is always allowed.
   * @default false
   */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
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
  readonly signal?: AbortSignal | null | undefined;
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
function answeredElsewhere(response: FetchResponse, origin: string): boolean {
  return response.redirected && URL.canParse(response.url) && new URL(response.url).origin !== origin;
}

/** Per client, the header values already found sendable. */
const checkedByClient = new WeakMap<TokenClient, CheckedHeaders>();

function checkedHeadersOf(client: TokenClient): CheckedHeaders {
  let checked = checkedByClient.get(client);
  if (checked === undefined) checkedByClient.set(client, (checked = new Map()));
  return checked;
}

/**
 * Sends one request with the client's headers for it and, when the API rejects the token,
 * invalidates exactly that token and sends the request once more with a new one. Shared by
 * `createAuthorizedFetch` and `TokenClient#fetch`; `url` must already be an allowed origin, and
 * `send` must send exactly `url.href` (or the Request it came from).
 *
 * A failure while the request with the token is built or sent rejects with a ProdoAuthError that
 * holds no token (`ErrorCode.NETWORK`, or `INVALID_RESPONSE` for a token no header can carry); the
 * caller's own abort rejects with the caller's reason, as fetch does.
 *
 * @internal
 */
export async function fetchWithToken<TInit extends FetchInit, TResponse extends FetchResponse>(
  client: TokenClient,
  url: ResolvedUrl,
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
  const signal = (init as { signal?: AbortSignal | null }).signal ?? request?.signal ?? undefined;
  const checked = checkedHeadersOf(client);

  // Token first, then the request: a caller waiting for a token holds no socket.
  const attempt = async (): Promise<{ token: string; response: TResponse }> => {
    const added = await client.requestHeaders({ method, url: url.href });
    assertSendable(added, checked);
    const headers = [...callerHeaders];
    for (const [name, value] of Object.entries(added)) {
      if (name === 'authorization' || !hasHeader(callerHeaders, name)) headers.push([name, value]);
    }
    const token = tokenOf(added.authorization);
    try {
      return { token, response: await send({ ...init, headers }) };
    } catch (error) {
      // The caller's own abort is theirs to see as it is; our errors never hold a token.
      if ((signal?.aborted === true && error === signal.reason) || isProdoAuthError(error)) throw error;
      throw sendError(error, [added.authorization ?? '', token], method, url.href);
    }
  };

  const { token, response } = await attempt();
  if (!isTokenRejection(response) || answeredElsewhere(response, url.origin)) return response;
  if (!replayable) {
    await client.invalidate(token);
    throw bodyNotReplayableError(response, response.status, method, new URL(url.href));
  }
  // Free the connection before the retry takes another one.
  await response.body?.cancel().catch(() => undefined);
  await client.invalidate(token);
  return (await attempt()).response;
}

type UrlGetter = () => string;

/**
 * The `url` getters of the Request classes we know (the global one and undici's); each throws for
 * anything but its own Requests. Looked up on the first Request input: touching
 * `globalThis.Request` loads Node's fetch, and importing undici costs a cold start.
 */
let requestUrlGetters: Promise<UrlGetter[]> | undefined;
function urlGetters(): Promise<UrlGetter[]> {
  requestUrlGetters ??= loadUndici().then((undici) =>
    [globalThis.Request, undici.Request]
      .map((c) => (c === undefined ? undefined : Object.getOwnPropertyDescriptor(c.prototype, 'url')?.get))
      .filter((get): get is UrlGetter => get !== undefined),
  );
  return requestUrlGetters;
}

/**
 * The URL a Request input really has, read the way fetch reads it (not through an overridable
 * `url` property); undefined for anything that is not a Request, which fetch turns into a string.
 */
async function requestUrlOf(input: object): Promise<string | undefined> {
  for (const get of await urlGetters()) {
    try {
      return get.call(input);
    } catch {
      // Not a Request of this class.
    }
  }
  return undefined;
}

/**
 * Wraps `fetch` so that requests to the API's origins carry the client's token and API headers.
 *
 * - Only allowed origins get the token: by default the origin of `client.apiUrl`, never every
 *   host; requests to other origins pass through untouched.
 * - A relative input is joined onto `client.apiUrl`'s path with one slash between, as axios's
 *   `baseURL` is: with `https://host/api`, `/users` and `users` both go to `https://host/api/users`.
 *   An absolute URL stays absolute (`http:evil.example/x` is the host `evil.example`), and gets the
 *   token only when its origin is allowed; a network-path `//host/x` keeps its host.
 * - What is checked is what is sent: the input is resolved once, and that URL goes to fetch.
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
 * - A failure while the request with the token is built or sent (a token no header can carry, a
 *   network error) rejects with a ProdoAuthError (`ErrorCode.INVALID_RESPONSE`, `ErrorCode.NETWORK`)
 *   whose message, stack and cause hold no token; an abort by the caller's signal rejects as fetch does.
 *
 * @param client The token client whose tokens to send.
 * @param options Which origins get the token, and the fetch to send through.
 * @returns A function with the signature of the fetch it wraps (`globalThis.fetch` by default).
 * @throws ConfigError when there is no origin to send the token to (no `origins`, no `apiUrl`), or a
 *   plain-http origin off loopback without `dangerouslyAllowInsecureHttp`.
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
  const allowed = allowedOrigins(
    { origins: ownOption(options, 'origins'), dangerouslyAllowInsecureHttp: ownOption(options, 'dangerouslyAllowInsecureHttp') },
    client.apiUrl,
  );
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
  const resolve = urlResolver(client.apiUrl);
  const authorizedFetch: typeof globalThis.fetch = async (input, init) => {
    // Read the global at call time, so a fetch installed later (a test recorder) is used.
    const send = (ownOption<TFetch>(options, 'fetch') ?? globalThis.fetch) as typeof globalThis.fetch;
    let request: Request | undefined;
    let href: string;
    if (typeof input === 'string') href = input;
    else if (input instanceof URL) href = input.href;
    else {
      const url = await requestUrlOf(input);
      if (url !== undefined) request = input;
      // Not a Request: fetch reads it as a string, and so do we.
      href = url ?? String(input);
    }
    const url = resolve(href);
    // The URL that was checked is the one sent: a Request carries it, anything else is sent as url.href.
    const target = request ?? url.href;
    if (!isAllowed(url.origin)) return send(target, init);
    return fetchWithToken(client, url, init ?? {}, (i) => send(target, i), request);
  };
  // Same signature as the fetch it wraps: the global fetch's by default, undici's when given it.
  return authorizedFetch as unknown as TFetch;
}
