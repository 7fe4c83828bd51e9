/**
 * The token on every undici request to the API: an interceptor for `Agent#compose`, with the same
 * rules as `createAuthorizedFetch`, at the dispatcher level.
 */
import type { Dispatcher } from 'undici';
import { isProdoAuthError } from '../errors.js';
import type { TokenClient } from '../token-client.js';
import { isTokenRejection } from './rejection.js';
import { tokenOf } from './authorized-fetch.js';
import { allowedOrigins, type OriginMatcher } from './origins.js';
import { assertSendable, holdsSecret, sendError, type CheckedHeaders } from './send-errors.js';
import { ownOption } from '../validation.js';

export interface AuthInterceptorOptions {
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
}

/**
 * A rejected response is read and thrown away before the retry, so its connection can be reused;
 * past this many bytes, or this long, it is aborted instead: a body that never ends must not hang
 * the request.
 */
const DRAIN_MAX_BYTES = 64 * 1024;
const DRAIN_MAX_MS = 1000;

type Dispatch = Dispatcher.Dispatch;
type DispatchHeaders = Dispatcher.DispatchOptions['headers'];

/** Handed to the caller's handler when the request fails before any connection was used. */
function detachedController(): Dispatcher.DispatchController {
  return { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Every shape undici accepts for headers, as one flat `[name, value, name, value...]` list. */
function flatHeaders(headers: DispatchHeaders): string[] {
  const flat: string[] = [];
  const add = (name: unknown, value: unknown): void => {
    if (value === undefined || value === null) return;
    for (const v of Array.isArray(value) ? value : [value]) flat.push(String(name), String(v));
  };
  if (headers === undefined || headers === null) return flat;
  if (Array.isArray(headers)) {
    // An array of [name, value] pairs, or a flat alternating list.
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [name, value] of headers as unknown as Array<[string, unknown]>) add(name, value);
    } else {
      for (let i = 0; i < headers.length; i += 2) add(headers[i], headers[i + 1]);
    }
  } else if (typeof (headers as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<[string, unknown]>) add(name, value);
  } else {
    for (const [name, value] of Object.entries(headers)) add(name, value);
  }
  return flat;
}

function hasHeader(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i]!.toLowerCase() === name) return true;
  return false;
}

/**
 * `allowedOrigins`' answer for a dispatch's `origin`, remembered per distinct value: a dispatcher
 * talks to a handful of origins, and parsing each request's origin twice costs throughput.
 * Returns the normalised origin when it may get the token.
 */
function allowedOriginCache(allowed: OriginMatcher): (origin: string | URL | undefined) => string | undefined {
  const seen = new Map<string, string | undefined>();
  return (origin) => {
    if (origin === undefined) return undefined;
    const key = String(origin);
    if (seen.has(key)) return seen.get(key);
    const normalised = URL.canParse(key) && allowed(key) ? new URL(key).origin : undefined;
    if (seen.size >= 256) seen.clear();
    seen.set(key, normalised);
    return normalised;
  };
}

/** One authorized request: adds the headers, and retries once when the API rejects the token. */
class AuthorizedDispatch implements Dispatcher.DispatchHandler {
  readonly #client: TokenClient;
  readonly #dispatch: Dispatch;
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #headers: readonly string[];
  readonly #handler: Dispatcher.DispatchHandler;
  /** The origin the request goes to: `opts.origin`, normalised. */
  readonly #origin: string;
  readonly #replayable: boolean;
  readonly #checked: CheckedHeaders;
  #token = '';
  /** The `Authorization` value sent: what no error reaching the caller may contain. */
  #authorization = '';
  #context: unknown;
  #retried = false;
  /** The rejected response is being read to its end (freeing the connection) before the retry. */
  #draining = false;
  #drainedBytes = 0;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The controller of a rejected response we aborted: its late callbacks are not the caller's. */
  #discarded: Dispatcher.DispatchController | undefined;
  #retry: Promise<{ token: string; authorization: string; headers: string[] }> | undefined;
  /** The caller's handler got its final callback (end or error); nothing more may reach it. */
  #done = false;

  constructor(
    client: TokenClient,
    dispatch: Dispatch,
    opts: Dispatcher.DispatchOptions,
    headers: string[],
    handler: Dispatcher.DispatchHandler,
    origin: string,
    checked: CheckedHeaders,
  ) {
    this.#client = client;
    this.#checked = checked;
    this.#dispatch = dispatch;
    this.#opts = opts;
    this.#headers = headers;
    this.#handler = handler;
    this.#origin = origin;
    const body = opts.body;
    this.#replayable = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  }

  start(): void {
    this.#send(this.#authorize());
  }

  /** The caller's headers plus the client's: `authorization` always, API headers where missing. */
  async #authorize(): Promise<{ token: string; authorization: string; headers: string[] }> {
    // The URL as the server sees it: origin, then path (a path like `//other.host/` stays a path).
    const url = `${this.#origin}${this.#opts.path}`;
    const added = await this.#client.requestHeaders({ method: this.#opts.method, url });
    // A token undici cannot put in a header never reaches undici, whose errors would print it.
    assertSendable(added, this.#checked);
    const headers = [...this.#headers];
    for (const [name, value] of Object.entries(added)) {
      if (name === 'authorization' || !hasHeader(this.#headers, name)) headers.push(name, value);
    }
    return { token: tokenOf(added.authorization), authorization: added.authorization ?? '', headers };
  }

  /** Dispatches once the token is there: a request waiting for a token holds no socket. */
  #send(authorized: Promise<{ token: string; authorization: string; headers: string[] }>): void {
    authorized.then(
      ({ token, authorization, headers }) => {
        this.#token = token;
        this.#authorization = authorization;
        try {
          this.#dispatch({ ...this.#opts, headers }, this);
        } catch (error) {
          // Building the request failed with our header in it: typed, and without the token.
          this.#fail(isProdoAuthError(error) ? error : sendError(error, this.#secrets(), this.#opts.method, `${this.#origin}${this.#opts.path}`));
        }
      },
      (error: unknown) => this.#fail(asError(error)),
    );
  }

  #secrets(): string[] {
    return [this.#authorization, this.#token];
  }

  #fail(error: Error, controller: Dispatcher.DispatchController = detachedController()): void {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#handler.onResponseError?.(controller, error);
    } catch {
      // Runs in a promise callback: a throw here has no caller left to reach.
    }
  }

  /** Behind a redirect interceptor the answer may come from another origin, which never got the token. */
  #answeredByOurOrigin(): boolean {
    const history = (this.#context as { history?: unknown } | undefined)?.history;
    if (!Array.isArray(history) || history.length === 0) return true;
    const last = String(history[history.length - 1]);
    return URL.canParse(last) && new URL(last).origin === this.#origin;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#context = context;
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    socket: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[3],
  ): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    const response = {
      status: statusCode,
      headers: {
        get: (name: string): string | null => {
          const value = headers[name];
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
        },
      },
    };
    if (controller === this.#discarded) return;
    if (!this.#retried && isTokenRejection(response) && this.#answeredByOurOrigin()) {
      const invalidated = this.#client.invalidate(this.#token);
      if (this.#replayable) {
        this.#retried = true;
        this.#draining = true;
        // Get the new token while the rejected response drains.
        this.#retry = invalidated.then(() => this.#authorize());
        this.#retry.catch(() => undefined);
        this.#drainTimer = setTimeout(() => this.#discard(controller), DRAIN_MAX_MS);
        this.#drainTimer.unref();
        return;
      }
      // A stream body is gone: the token is still dropped, the rejection goes to the caller.
      invalidated.catch(() => undefined);
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (controller === this.#discarded) return;
    if (!this.#draining) {
      this.#handler.onResponseData?.(controller, chunk);
      return;
    }
    this.#drainedBytes += chunk.length;
    if (this.#drainedBytes > DRAIN_MAX_BYTES) this.#discard(controller);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (controller === this.#discarded) return;
    if (this.#draining) {
      this.#stopDraining();
      this.#send(this.#retry!);
      return;
    }
    if (this.#done) return;
    this.#done = true;
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    // The rejected response we cut short: its abort is ours, the retry is already on its way.
    if (controller === this.#discarded) return;
    this.#stopDraining();
    // undici's own errors (their codes drive retry interceptors) pass as they are, unless one holds the token.
    const leaks = !isProdoAuthError(error) && this.#authorization !== '' && holdsSecret(error, this.#secrets());
    this.#fail(leaks ? sendError(error, this.#secrets(), this.#opts.method, `${this.#origin}${this.#opts.path}`) : error, controller);
  }

  #stopDraining(): void {
    this.#draining = false;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  }

  /** The rejected response is too long, or too slow, to read to its end: abort it and retry now. */
  #discard(controller: Dispatcher.DispatchController): void {
    if (!this.#draining) return;
    this.#stopDraining();
    this.#discarded = controller;
    try {
      controller.abort(new Error('prodo-auth: discarded the rest of a rejected response before the retry'));
    } catch {
      // Already gone: nothing left to free.
    }
    this.#send(this.#retry!);
  }
}

/**
 * An undici interceptor that adds the client's token to requests for the API, for
 * `Agent#compose`. Same rules as {@link createAuthorizedFetch}:
 *
 * - Only allowed origins (`opts.origin`) get the token: by default the origin of
 *   `client.apiUrl`, never every host; other requests pass through untouched.
 * - A request that sets its own `Authorization` is left alone: no token, no retry. The client's
 *   API headers are added only where the request does not set them.
 * - A 401, or a `Bearer error="invalid_token"` challenge, invalidates exactly the token that
 *   request used; with a body that can be sent again (none, a string, a Buffer) the request is
 *   dispatched once more with a new token, else the rejection reaches the caller. undici's `fetch`
 *   hands its bodies to the dispatcher as streams, so through `fetch` only bodyless requests are
 *   retried: use {@link createAuthorizedFetch} to retry fetch requests with a body.
 * - The token comes first, then the dispatch: a request waiting for a token holds no socket. A
 *   token endpoint failure reaches the handler's `onResponseError` as the client's typed error,
 *   within the client's `timeoutMs`.
 * - Redirects: compose `interceptors.redirect()` after this interceptor (so each hop is authorized
 *   on its own), or before it (undici then drops `Authorization` on a hop to another origin).
 * - The body of a rejected response is read and dropped before the retry, up to 64 KiB or one
 *   second; past that the response is aborted and the retry goes ahead.
 * - A token undici cannot send in a header (CR, LF, NUL...) fails the request with a ProdoAuthError
 *   (`ErrorCode.INVALID_RESPONSE`) before dispatch; a dispatch that throws rejects with
 *   `ErrorCode.NETWORK`. undici's own errors pass through as they are, so retry interceptors keep
 *   their codes, unless one holds the token: then it is replaced. No error ever holds the token.
 *
 * Needs undici 7 (the `onRequestStart` / `onResponseStart` handler API).
 *
 * @param client The token client whose tokens to send.
 * @param options Which origins get the token.
 * @returns An interceptor for `Agent#compose`.
 * @throws ConfigError when there is no origin to send the token to (no `origins`, no `apiUrl`), or a
 *   plain-http origin off loopback without `dangerouslyAllowInsecureHttp`.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 (the `invalid_token` challenge)
 *
 * @example
 * import { Agent, request } from 'undici';
 *
 * const dispatcher = new Agent().compose(authInterceptor(client));
 * const { statusCode, body } = await request('https://api.example.com/v1/things', { dispatcher });
 */
export function authInterceptor(client: TokenClient, options: AuthInterceptorOptions = {}): Dispatcher.DispatcherComposeInterceptor {
  const allowedOrigin = allowedOriginCache(
    allowedOrigins(
      { origins: ownOption(options, 'origins'), dangerouslyAllowInsecureHttp: ownOption(options, 'dangerouslyAllowInsecureHttp') },
      client.apiUrl,
    ),
  );
  const checked: CheckedHeaders = new Map();
  return (dispatch) =>
    function prodoAuthInterceptor(opts, handler) {
      const origin = allowedOrigin(opts.origin);
      if (origin === undefined) return dispatch(opts, handler);
      const headers = flatHeaders(opts.headers);
      if (hasHeader(headers, 'authorization')) return dispatch(opts, handler);
      new AuthorizedDispatch(client, dispatch, opts, headers, handler, origin, checked).start();
      // The dispatch happens once the token is there; until then this dispatcher is not busy.
      return true;
    };
}
