/**
 * The HTTP transport for token requests: undici with keep-alive and proxy support, an overall
 * deadline, bounded retries with backoff and jitter, a response size cap, and body parsing that
 * never crashes on what a misbehaving server sends.
 *
 * undici is loaded on the first request, not when the package is imported: most of a cold
 * start's cost is loading it, and a process that only builds a client pays nothing for it.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher, Pool } from 'undici';
import { ErrorCode, isProdoAuthError, sanitizeCause, TokenEndpointError } from './errors.js';
import { loadUndici } from './load-undici.js';
import type { SecretSet } from './redact.js';

/** Retry policy for token requests. */
export interface RetryOptions {
  /**
   * Attempts after the first one, on network errors, 429 and 5xx.
   * @default 2
   */
  retries?: number;
  /**
   * Base delay of the exponential backoff, in ms; the wait is drawn at random up to it ("full jitter").
   * @default 100
   */
  minDelayMs?: number;
  /**
   * Longest single wait, in ms, also the cap on a server's `Retry-After`.
   * @default 2000
   */
  maxDelayMs?: number;
}

export interface TransportOptions {
  /**
   * Deadline for one token request, retries included, in ms.
   * @default 10000
   */
  timeoutMs?: number | undefined;
  /**
   * An undici dispatcher to send through (a proxy agent, a mock-free test agent, a custom pool).
   * Token requests never follow redirects through it, whatever interceptors it has.
   * @default an agent with keep-alive that honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY, except
   *   for loopback hosts, which it always reaches directly
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * Largest response body accepted from the token endpoint, in bytes.
   * @default 1048576 (1 MiB)
   */
  maxResponseBytes?: number | undefined;
  retry?: RetryOptions | undefined;
}

export interface TransportRequest {
  url: URL;
  method?: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  /**
   * The request carries a credential that works once (an authorization code, a refresh token):
   * it is resent only when it certainly never reached the server.
   */
  singleUse?: boolean;
  /** The secrets the request carries, to redact from the message of a network error's cause. */
  secrets?: SecretSet | undefined;
  /**
   * Builds the headers and body anew before every attempt, retries included (a client assertion
   * needs a fresh `jti` and `exp` each time). Replaces `headers` and `body` when given.
   */
  prepare?: (() => Promise<{ headers: Record<string, string>; body?: string | undefined }>) | undefined;
  /** A dispatcher for this request instead of the transport's (mutual TLS with a client certificate). */
  dispatcher?: Dispatcher | undefined;
}

export type ResponseBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; value: Record<string, string> }
  | { kind: 'html'; text: string }
  | { kind: 'text'; text: string };

export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
  /** The body as received, for error excerpts: a parsed form would have decoded what redaction must match. */
  text: string;
  /** When the request that produced this response was sent (epoch ms): expiry counts from here. */
  sentAt: number;
}

/** The code of a proxy that closed the tunnel before the token endpoint got a byte. */
const PROXY_TUNNEL_FAILED = 'ERR_PROXY_TUNNEL_CLOSED';

// Errors raised before a single byte reached the server: resending spends nothing.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  PROXY_TUNNEL_FAILED,
]);

/** Whether a host name is this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function originHost(origin: unknown): string | undefined {
  try {
    return new URL(String(origin)).hostname;
  } catch {
    return undefined;
  }
}

/** The `code`s along an error's cause chain: undici wraps the socket error that tells what happened. */
function errorCodesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** Parses an HTTP `Retry-After` header (seconds or an HTTP date) into ms from now. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseBody(contentType: string, text: string): ResponseBody {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const looksJson = /^\s*[{[]/.test(text);
  if (type === 'application/json' || type.endsWith('+json') || (looksJson && !type.includes('html'))) {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch {
      return { kind: 'text', text };
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { kind: 'form', value: Object.fromEntries(new URLSearchParams(text)) };
  }
  if (type.includes('html') || /^\s*<(!doctype|html)/i.test(text)) return { kind: 'html', text };
  return { kind: 'text', text };
}

/** Sends token requests. One per client; it owns its dispatcher unless the caller gave one. */
export class Transport {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly #given: Dispatcher | undefined;
  /** The dispatcher this transport made, once the first request or getDispatcher() asked for it. */
  #own: Promise<{ dispatcher: Dispatcher; close: () => Promise<void> }> | undefined;
  readonly #retries: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  /** Made on first use: a transport that never sends (a session's client with a warm token) costs none. */
  #closer: AbortController | undefined;
  get #closed(): AbortController {
    if (this.#closer === undefined) {
      this.#closer = new AbortController();
      // One listener per request in flight, each removed when its request ends: a transport shared
      // by many clients (the login flow's sessions) has more than EventTarget's default ten.
      setMaxListeners(0, this.#closer.signal);
    }
    return this.#closer;
  }

  constructor(options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.#retries = options.retry?.retries ?? 2;
    this.#minDelayMs = options.retry?.minDelayMs ?? 100;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 2000;
    this.#given = options.dispatcher;
  }

  /** Aborts every request in flight and closes the dispatcher this transport created, if it made one. */
  async close(): Promise<void> {
    this.#closed.abort();
    const own = await this.#own?.catch(() => undefined);
    await own?.close().catch(() => undefined);
  }

  /** The dispatcher requests go through: the caller's, or the proxy-aware agent this transport made. */
  async getDispatcher(): Promise<Dispatcher> {
    if (this.#given !== undefined) return this.#given;
    this.#own ??= this.#createDispatcher();
    return (await this.#own).dispatcher;
  }

  async #createDispatcher(): Promise<{ dispatcher: Dispatcher; close: () => Promise<void> }> {
    const { Agent, Client, EnvHttpProxyAgent, Pool } = await loadUndici();
    // undici treats a socket closed during connect as recoverable and reconnects at once, for as
    // long as a request waits: a proxy that accepts and closes every CONNECT then sees tens of
    // thousands of them. Failing the waiting request instead hands the decision to the bounded
    // retries of send().
    const factory = (origin: string | URL, opts: Pool.Options): Dispatcher => {
      const connect = opts.connect;
      const bounded: Pool.Options =
        typeof connect === 'function'
          ? {
              ...opts,
              connect: (connectOptions, callback) =>
                connect(connectOptions, (...args) => {
                  const [error] = args;
                  if (error === null || (error as { code?: unknown }).code !== 'UND_ERR_SOCKET') return callback(...args);
                  const failure = new Error(`the proxy closed the tunnel: ${error.message}`);
                  callback(Object.assign(failure, { code: PROXY_TUNNEL_FAILED }), null);
                }),
            }
          : opts;
      return opts.connections === 1 ? new Client(origin, bounded) : new Pool(origin, bounded);
    };
    const options = { keepAliveTimeout: 10_000, connect: { timeout: Math.min(this.timeoutMs, 10_000) }, factory };
    // EnvHttpProxyAgent honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY, and is a keep-alive Agent
    // when none is set. Loopback never goes through a proxy: a proxy elsewhere cannot reach this
    // machine's 127.0.0.1, and would see the token request in the clear on the way.
    const proxied = new EnvHttpProxyAgent(options);
    const direct = new Agent(options);
    const dispatcher = proxied.compose((dispatch) => (opts, handler) => {
      const host = originHost(opts.origin);
      return host !== undefined && isLoopbackHost(host) ? direct.dispatch(opts, handler) : dispatch(opts, handler);
    });
    return {
      dispatcher,
      // destroy, not close: close waits for queued requests, and one stuck behind a failing proxy
      // would keep it waiting; send() has already failed every request in flight by now.
      close: async () => {
        await Promise.all([proxied.destroy(), direct.destroy()]);
      },
    };
  }

  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  /**
   * Sends a request and returns its response, whatever the status. Network errors, timeouts and
   * oversized bodies become a {@link TokenEndpointError}; 429 and 5xx are retried within the
   * deadline, and the last response is returned when retries run out. Redirects are never
   * followed: a 3xx is returned like any other answer.
   *
   * The deadline is a timer of this transport's own: when it fires, the attempt in flight is
   * aborted and the call rejects with `ERR_PRODO_AUTH_TIMEOUT` at once, whether or not the
   * dispatcher honours the abort signal.
   */
  async send(req: TransportRequest): Promise<TransportResponse> {
    const where = `${req.url.origin}${req.url.pathname}`;
    const deadline = Date.now() + this.timeoutMs;
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.#closed.signal]);
    let timedOut = false;
    let stop!: (error: TokenEndpointError) => void;
    const stopped = new Promise<never>((_resolve, reject) => (stop = reject));
    stopped.catch(() => undefined);
    // Ref'd: someone awaits this request, and the timer is what bounds the wait.
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
      stop(this.#timeoutError(where));
    }, this.timeoutMs);
    const onClose = (): void => stop(this.#closedError(where));
    this.#closed.signal.addEventListener('abort', onClose, { once: true });
    try {
      if (this.#closed.signal.aborted) throw this.#closedError(where);
      const dispatcher = req.dispatcher ?? (await Promise.race([this.getDispatcher(), stopped]));
      for (let attempt = 0; ; attempt++) {
        // Outside the network error handling: a failure to build the request is the caller's, as it is.
        const built = await Promise.race([this.#prepared(req), stopped]);
        const sentAt = Date.now();
        let response: TransportResponse;
        try {
          const pending = this.#attempt(built, dispatcher, signal, sentAt, where);
          pending.catch(() => undefined);
          response = await Promise.race([pending, stopped]);
        } catch (error) {
          const failure = this.#toError(error, where, timedOut, req.secrets);
          const retryable = failure.code === ErrorCode.NETWORK && (!req.singleUse || !failure.requestSent);
          const wait = this.#backoff(attempt);
          if (!retryable || attempt >= this.#retries || Date.now() + wait >= deadline) throw failure;
          await Promise.race([this.#sleep(wait, signal, where, () => timedOut), stopped]);
          continue;
        }
        // A 429 means the server refused to process the request, so even a single-use credential
        // is unspent; a 5xx leaves that unclear.
        const retryStatus = response.status === 429 || (response.status >= 500 && !req.singleUse);
        if (!retryStatus || attempt >= this.#retries) return response;
        const retryAfter = parseRetryAfter(response.headers['retry-after']);
        const wait = retryAfter === undefined ? this.#backoff(attempt) : Math.min(retryAfter, this.#maxDelayMs);
        if (Date.now() + wait >= deadline) return response;
        await Promise.race([this.#sleep(wait, signal, where, () => timedOut), stopped]);
      }
    } finally {
      clearTimeout(timer);
      this.#closed.signal.removeEventListener('abort', onClose);
      // Whatever is still in flight (a dispatcher that ignored the abort) is told to stop.
      abort.abort();
    }
  }

  async #prepared(req: TransportRequest): Promise<TransportRequest> {
    if (req.prepare === undefined) return req;
    const { headers, body } = await req.prepare();
    return { ...req, headers, body };
  }

  async #attempt(
    req: TransportRequest,
    dispatcher: Dispatcher,
    signal: AbortSignal,
    sentAt: number,
    where: string,
  ): Promise<TransportResponse> {
    const res = await dispatcher.request({
      origin: req.url.origin,
      path: `${req.url.pathname}${req.url.search}`,
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body ?? null,
      signal,
      // Token requests never follow redirects: undici's redirect interceptor reads this per
      // request, so a caller's `interceptors.redirect()` does not resend credentials elsewhere.
      maxRedirections: 0,
    } as Dispatcher.RequestOptions);
    if (signal.aborted) {
      res.body.destroy();
      throw signal.reason;
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
      res.body.destroy();
      throw this.#tooLarge(res.statusCode, where);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxResponseBytes) {
        res.body.destroy();
        throw this.#tooLarge(res.statusCode, where);
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, headers: res.headers, body: parseBody(contentType, text), text, sentAt };
  }

  #tooLarge(status: number, where: string): TokenEndpointError {
    return new TokenEndpointError(
      `Token endpoint ${where} answered HTTP ${status} with a body over the ${this.maxResponseBytes}-byte limit`,
      { code: ErrorCode.RESPONSE_TOO_LARGE, status, requestSent: true },
    );
  }

  #timeoutError(where: string): TokenEndpointError {
    return new TokenEndpointError(`Token endpoint ${where} did not answer within ${this.timeoutMs} ms`, {
      code: ErrorCode.TIMEOUT,
      requestSent: true,
    });
  }

  #closedError(where: string): TokenEndpointError {
    return new TokenEndpointError(`Token endpoint ${where}: request aborted, the client was closed`, {
      code: ErrorCode.CLOSED,
      requestSent: true,
    });
  }

  #toError(error: unknown, where: string, timedOut: boolean, secrets: SecretSet | undefined): TokenEndpointError {
    // Any copy of the package: a dispatcher or interceptor from another copy may throw its errors.
    if (isProdoAuthError(error) && 'requestSent' in error) return error as TokenEndpointError;
    if (timedOut) return this.#timeoutError(where);
    if (this.#closed.signal.aborted) return this.#closedError(where);
    const codes = errorCodesOf(error);
    const sent = !codes.some((c) => NOT_SENT_CODES.has(c));
    const code = codes.at(-1);
    return new TokenEndpointError(`Token endpoint ${where} unreachable (${code ?? 'network error'})`, {
      code: ErrorCode.NETWORK,
      requestSent: sent,
      // A copy without undici's `data` (which holds the request as sent), redacted.
      cause: sanitizeCause(error, secrets === undefined ? undefined : (text) => secrets.redact(text)),
    });
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * 2 ** attempt);
    return Math.round(Math.random() * ceiling);
  }

  async #sleep(ms: number, signal: AbortSignal, where: string, timedOut: () => boolean): Promise<void> {
    try {
      // Keeps the process alive: someone awaits this request, and the deadline bounds the wait.
      await sleep(ms, undefined, { signal });
    } catch (error) {
      throw this.#toError(error, where, timedOut(), undefined);
    }
  }
}
