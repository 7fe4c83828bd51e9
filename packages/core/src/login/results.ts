/** The plain request and result types of the login flow, and the error-to-answer mapping adapters share. */
import type { RequestInit, Response } from 'undici';
import { httpStatusForError, isProdoAuthError, ErrorCode } from '../errors.js';
import type { SetCookie } from './cookies.js';

/** What an adapter passes in for each request: framework-free. */
export interface PlainRequest {
  /** `GET`, `POST`... */
  readonly method: string;
  /** Path and query as received (`/auth/callback?code=...&state=...`). */
  readonly url: string;
  /** The request headers, lower-case names, as Node's `IncomingMessage#headers` has them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request came over https as the app sees it (behind a proxy: `X-Forwarded-Proto`, if trusted). */
  readonly secure?: boolean | undefined;
}

/** The signed-in user's access, or nobody's: what `req.prodoAuth` is in user mode. */
export interface UserAuth {
  /** True while a valid session cookie names a live session. */
  readonly isAuthenticated: boolean;
  /** The user's access token; rejects with ReauthenticationRequiredError when nobody is signed in. */
  getAccessToken(): Promise<string>;
  /** `fetch` to the API as the user (token added, one retry on a 401); rejects like getAccessToken. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
}

/** What the adapter does with a request: redirect, hand it to the app, or answer it. */
export type FlowResult =
  /**
   * Redirect the browser. `headers` holds `Cache-Control: no-store`: a login redirect carries a
   * single-use `state`, and a cached one replayed by the back button would fail the sign-in.
   */
  | {
      readonly kind: 'redirect';
      readonly status: 302 | 303;
      readonly location: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly cookies: readonly SetCookie[];
    }
  /** Not a route of the flow: go on to the app with `auth`, setting `cookies` on its response. */
  | { readonly kind: 'continue'; readonly auth: UserAuth; readonly cookies: readonly SetCookie[] }
  /** Answer with this (an error as JSON or a small HTML page, by `Accept`; the logout answer). */
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
      readonly cookies: readonly SetCookie[];
    };

/** The `error` codes of the flow's JSON answers. */
export type FlowErrorCode =
  | 'login_required'
  | 'upstream_auth_unavailable'
  | 'invalid_state'
  | 'invalid_request'
  | 'login_failed'
  | 'cross_site_request'
  | 'method_not_allowed'
  | 'internal_error'
  | (string & {});

export const NO_COOKIES: readonly SetCookie[] = Object.freeze([]);

/** True when the client asked for a page (`Accept: text/html`), as browsers do on navigation. */
export function wantsHtml(req: PlainRequest): boolean {
  const accept = req.headers.accept;
  return (typeof accept === 'string' ? accept : (accept ?? []).join(',')).includes('text/html');
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * An error answer: `{ "error": code, "error_description": description }` as JSON, or the same as a
 * small HTML page when the client asked for one. `description` must hold no secret.
 */
export function errorResponse(
  req: PlainRequest,
  status: number,
  code: FlowErrorCode,
  description: string,
  cookies: readonly SetCookie[] = NO_COOKIES,
): FlowResult {
  const headers = { 'cache-control': 'no-store' };
  if (wantsHtml(req)) {
    const body =
      `<!doctype html><html><head><meta charset="utf-8"><title>Sign-in problem</title></head>` +
      `<body><h1>Sign-in problem</h1><p>${escapeHtml(description)}</p><p><code>${escapeHtml(code)}</code></p></body></html>`;
    return { kind: 'respond', status, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' }, body, cookies };
  }
  const body = JSON.stringify({ error: code, error_description: description });
  return { kind: 'respond', status, headers: { ...headers, 'content-type': 'application/json' }, body, cookies };
}

/**
 * A refresh that failed because the token endpoint did (a 5xx, a timeout, no connection) ends in
 * ReauthenticationRequiredError from the token client, with that failure as its cause: the
 * user's next step is to wait, not to log in again.
 */
function upstreamCause(error: unknown): boolean {
  if (!isProdoAuthError(error) || error.code !== ErrorCode.REAUTHENTICATION_REQUIRED) return false;
  const cause = (error as { cause?: unknown }).cause;
  return isProdoAuthError(cause) && httpStatusForError(cause) === 502 && cause.code !== ErrorCode.OAUTH;
}

/**
 * The answer for an error that ends a request: 401 `login_required` when the user must sign in
 * again, 502 `upstream_auth_unavailable` when the authorization server failed or could not be
 * reached, 500 `internal_error` otherwise. The body never carries the error's message, so nothing
 * from the token endpoint (or a secret) reaches the client.
 *
 * @param error - what was thrown
 * @param req - the request, for the JSON-or-HTML choice
 * @example
 * } catch (error) { return send(res, errorResult(error, plainRequest)); }
 */
export function errorResult(error: unknown, req: PlainRequest): FlowResult {
  const status = upstreamCause(error) ? 502 : httpStatusForError(error);
  if (status === 401) return errorResponse(req, 401, 'login_required', 'Sign in to continue.');
  if (status === 502) {
    return errorResponse(req, 502, 'upstream_auth_unavailable', 'The sign-in service is unavailable. Try again shortly.');
  }
  if (isProdoAuthError(error) && error.code === ErrorCode.CLOSED) {
    return errorResponse(req, 503, 'unavailable', 'The server is shutting down.');
  }
  return errorResponse(req, 500, 'internal_error', 'Something went wrong.');
}
