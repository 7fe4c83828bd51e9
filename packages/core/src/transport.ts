/**
 * The HTTP transport for token requests: undici with keep-alive and proxy support, an overall
 * deadline, bounded retries with backoff and jitter, a response size cap, and body parsing that
 * never crashes on what a misbehaving server sends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { ErrorCode, TokenEndpointError } from './errors.js';

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
  /** An undici dispatcher to send through (a proxy agent, a mock-free test agent, a custom pool). */
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

// Errors raised before a single byte reached the server: resending spends nothing.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

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
  readonly dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #retries: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #closed = new AbortController();

  constructor(options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.#retries = options.retry?.retries ?? 2;
    this.#minDelayMs = options.retry?.minDelayMs ?? 100;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 2000;
    this.#ownsDispatcher = options.dispatcher === undefined;
    // EnvHttpProxyAgent honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY, and is a keep-alive Agent
    // when none is set.
    this.dispatcher =
      options.dispatcher ??
      new EnvHttpProxyAgent({
        keepAliveTimeout: 10_000,
        connect: { timeout: Math.min(this.timeoutMs, 10_000) },
      });
  }

  /** Aborts every request in flight and closes the dispatcher this transport created. */
  async close(): Promise<void> {
    this.#closed.abort();
    if (this.#ownsDispatcher) await this.dispatcher.close().catch(() => undefined);
  }

  /** The dispatcher requests go through: the caller's, or the proxy-aware agent this transport made. */
  getDispatcher(): Promise<Dispatcher> {
    return Promise.resolve(this.dispatcher);
  }

  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  /**
   * Sends a request and returns its response, whatever the status. Network errors, timeouts and
   * oversized bodies become a {@link TokenEndpointError}; 429 and 5xx are retried within the
   * deadline, and the last response is returned when retries run out.
   */
  async send(req: TransportRequest): Promise<TransportResponse> {
    const deadline = Date.now() + this.timeoutMs;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([timeout, this.#closed.signal]);
    const where = `${req.url.origin}${req.url.pathname}`;
    for (let attempt = 0; ; attempt++) {
      const sentAt = Date.now();
      let response: TransportResponse;
      try {
        response = await this.#attempt(req, signal, sentAt, where);
      } catch (error) {
        const failure = this.#toError(error, where, timeout.aborted);
        const retryable = failure.code === ErrorCode.NETWORK && (!req.singleUse || !failure.requestSent);
        const wait = this.#backoff(attempt);
        if (!retryable || attempt >= this.#retries || Date.now() + wait >= deadline) throw failure;
        await this.#sleep(wait, signal, where, timeout);
        continue;
      }
      // A 429 means the server refused to process the request, so even a single-use credential
      // is unspent; a 5xx leaves that unclear.
      const retryStatus = response.status === 429 || (response.status >= 500 && !req.singleUse);
      if (!retryStatus || attempt >= this.#retries) return response;
      const retryAfter = parseRetryAfter(response.headers['retry-after']);
      const wait = retryAfter === undefined ? this.#backoff(attempt) : Math.min(retryAfter, this.#maxDelayMs);
      if (Date.now() + wait >= deadline) return response;
      await this.#sleep(wait, signal, where, timeout);
    }
  }

  async #attempt(
    req: TransportRequest,
    signal: AbortSignal,
    sentAt: number,
    where: string,
  ): Promise<TransportResponse> {
    const res = await request(req.url, {
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher: this.dispatcher,
      signal,
    });
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

  #toError(error: unknown, where: string, timedOut: boolean): TokenEndpointError {
    if (error instanceof TokenEndpointError) return error;
    if (timedOut) {
      return new TokenEndpointError(`Token endpoint ${where} did not answer within ${this.timeoutMs} ms`, {
        code: ErrorCode.TIMEOUT,
        requestSent: true,
      });
    }
    if (this.#closed.signal.aborted) {
      return new TokenEndpointError(`Token request to ${where} aborted: the client was closed`, {
        code: ErrorCode.CLOSED,
        requestSent: true,
      });
    }
    const codes = errorCodesOf(error);
    const sent = !codes.some((c) => NOT_SENT_CODES.has(c));
    const code = codes.at(-1);
    return new TokenEndpointError(`Token endpoint ${where} unreachable (${code ?? 'network error'})`, {
      code: ErrorCode.NETWORK,
      requestSent: sent,
      cause: error,
    });
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#minDelayMs * 2 ** attempt);
    return Math.round(Math.random() * ceiling);
  }

  async #sleep(ms: number, signal: AbortSignal, where: string, timeout: AbortSignal): Promise<void> {
    try {
      // Keeps the process alive: someone awaits this request, and the deadline bounds the wait.
      await sleep(ms, undefined, { signal });
    } catch (error) {
      throw this.#toError(error, where, timeout.aborted);
    }
  }
}
