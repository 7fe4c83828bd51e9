/**
 * Masks the `Authorization` this adapter added in a failed request's AxiosError, keeping the error
 * an AxiosError. Axios copies the config (headers included) into every error and hangs Node's
 * request objects on it, so the usual `console.log(err)` in a catch block would print the token
 * (axios issues 2648, 4246, 6919). Only the exact value we added is replaced: a caller's own
 * Authorization is theirs.
 */
import { REDACTED } from '@prodo-auth/core';

type Bag = Record<string | symbol, unknown>;

/** What an Authorization we added reads as once masked: the scheme stays, so a log still says which. */
export function maskOf(header: string): string {
  return `${header.split(' ', 1)[0]} ${REDACTED}`;
}

/** True for a masked Authorization: an error's config sent again carries this, not a credential. */
export function isMasked(value: unknown): boolean {
  return typeof value === 'string' && value.endsWith(` ${REDACTED}`) && !value.slice(0, -REDACTED.length - 1).includes(' ');
}

const isBag = (value: unknown): value is Bag => typeof value === 'object' && value !== null;

/**
 * Masks `header` in the error's config, its response's config, and the Node request objects of
 * both (`err.request`, `err.response.request`). Safe on any value: what is not there is skipped.
 */
export function maskError(error: unknown, header: string): void {
  if (!isBag(error)) return;
  const mask = new Masker(header);
  mask.config(error.config);
  mask.request(error.request);
  mask.response(error.response);
}

/** Masks `header` in a response's config and request (the BODY_NOT_REPLAYABLE error carries one). */
export function maskResponse(response: unknown, header: string): void {
  new Masker(header).response(response);
}

class Masker {
  readonly #header: string;
  readonly #masked: string;
  readonly #seen = new Set<object>();

  constructor(header: string) {
    this.#header = header;
    this.#masked = maskOf(header);
  }

  #text(value: unknown): unknown {
    return typeof value === 'string' && value.includes(this.#header) ? value.split(this.#header).join(this.#masked) : value;
  }

  /** A header map: AxiosHeaders (get/set keep the name's case) or a plain object of any case. */
  #headers(headers: unknown): void {
    if (!isBag(headers)) return;
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'authorization' && headers[name] === this.#header) headers[name] = this.#masked;
    }
  }

  response(response: unknown): void {
    if (!isBag(response)) return;
    this.config(response.config);
    this.request(response.request);
  }

  config(config: unknown): void {
    if (isBag(config)) this.#headers(config.headers);
  }

  /**
   * follow-redirects' RedirectableRequest (the options it would send again on a redirect, and the
   * ClientRequest in flight) and Node's ClientRequest (the header block it wrote, its header map,
   * and what still waits to be written on a socket that never connected).
   */
  request(request: unknown): void {
    if (!isBag(request) || this.#seen.has(request)) return;
    this.#seen.add(request);
    if (isBag(request._options)) this.#headers(request._options.headers);
    this.request(request._currentRequest);
    this.request(request._redirectable);
    // A fetch Request (axios's `adapter: 'fetch'`): its Headers, which stay writable.
    const headers = request.headers as { get?: unknown; set?: unknown } | undefined;
    if (isBag(headers) && typeof headers.get === 'function' && typeof headers.set === 'function') {
      try {
        if (headers.get('authorization') === this.#header) headers.set('authorization', this.#masked);
      } catch {
        // An immutable Headers: nothing to do.
      }
    }
    if (typeof request._header === 'string') request._header = this.#text(request._header);
    // Node keeps the headers set on a ClientRequest under a private symbol; getHeader() reads it,
    // and setHeader() throws once they are sent.
    const out = Object.getOwnPropertySymbols(request).find((s) => s.description === 'kOutHeaders');
    const entries = out === undefined ? undefined : request[out];
    if (isBag(entries)) {
      for (const entry of Object.values(entries)) {
        if (Array.isArray(entry) && entry[1] === this.#header) entry[1] = this.#masked;
      }
    }
    if (Array.isArray(request.outputData)) for (const chunk of request.outputData) if (isBag(chunk)) chunk.data = this.#text(chunk.data);
    // A socket that never connected (refused, timed out) still holds the request head it was to write;
    // a socket still in use is left alone, as its pending data is another request's.
    const socket = request.socket;
    if (isBag(socket) && socket.destroyed === true) {
      if (Array.isArray(socket._pendingData)) {
        for (const chunk of socket._pendingData) if (isBag(chunk)) chunk.chunk = this.#text(chunk.chunk);
      } else {
        socket._pendingData = this.#text(socket._pendingData);
      }
    }
  }
}
