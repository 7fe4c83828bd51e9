/** Request parsing and reply helpers shared by the vendor simulations. */
import type { IncomingHttpHeaders } from 'node:http';

/** A request as the vendor handlers see it: already read, already parsed. */
export interface MockRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body as form parameters; empty unless the content type is `application/x-www-form-urlencoded`. */
  readonly form: URLSearchParams;
  /** The body parsed as JSON when the content type says JSON; `undefined` when absent or unparseable. */
  readonly json: unknown;
  /** True when the content type says JSON but the body does not parse. */
  readonly jsonMalformed: boolean;
}

/** What a handler answers. The server writes it (and applies the slow-body fault). */
export interface MockReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The largest request body the server reads; anything bigger is answered 413. */
export const MAX_BODY_BYTES: number = 64 * 1024;

export function parseRequestBody(
  body: string,
  contentType: string | undefined,
): Pick<MockRequest, 'form' | 'json' | 'jsonMalformed'> {
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) {
    return { form: new URLSearchParams(body), json: undefined, jsonMalformed: false };
  }
  if (type.includes('json')) {
    try {
      return { form: new URLSearchParams(), json: JSON.parse(body) as unknown, jsonMalformed: false };
    } catch {
      return { form: new URLSearchParams(), json: undefined, jsonMalformed: true };
    }
  }
  return { form: new URLSearchParams(), json: undefined, jsonMalformed: false };
}

// Token endpoints answer with these, as Keycloak and Spring do (RFC 6749 section 5.1).
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): MockReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** A token endpoint's JSON answer: `Cache-Control: no-store` on success and error alike. */
export function tokenReply(status: number, body: unknown, headers: Record<string, string> = {}): MockReply {
  return jsonReply(status, body, { ...NO_STORE, ...headers });
}

/** An RFC 6749 section 5.2 error body from a token endpoint. */
export function oauthError(status: number, error: string, description: string, headers?: Record<string, string>): MockReply {
  return tokenReply(status, { error, error_description: description }, headers);
}

export function htmlReply(status: number, html: string): MockReply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: html };
}

export function redirectReply(location: string): MockReply {
  return { status: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The credentials of an `Authorization: Basic` header. Returns `undefined` when there is no Basic
 * header and `null` when it is not valid Base64 of `id:secret`.
 */
export function basicCredentials(headers: IncomingHttpHeaders): { id: string; secret: string } | null | undefined {
  const header = headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (match === null) return /^Basic\b/i.test(header) ? null : undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** The token of an `Authorization: Bearer` header (the scheme is case-insensitive, RFC 7235). */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** Adds query parameters to a redirect target, whether or not it is an absolute URL. */
export function appendQuery(target: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v);
  const hash = target.indexOf('#');
  const base = hash < 0 ? target : target.slice(0, hash);
  return `${base}${base.includes('?') ? '&' : '?'}${query.toString()}`;
}
