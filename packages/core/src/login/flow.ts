/**
 * The browser login (authorization code + PKCE) and the user sessions behind it, framework-free:
 * a plain request in, a plain result out. Adapters only translate.
 */
import { isProdoAuthError, ErrorCode, ReauthenticationRequiredError, type OAuthError } from '../errors.js';
import type { AuthorizationCodeGrant } from '../grants/authorization-code.js';
import type { TokenStore } from '../store.js';
import { tokenClientFactory, type TokenClient, type TokenClientOptions } from '../token-client.js';
import { isLoopback } from '../validation.js';
import {
  cookieHeader,
  cookieName,
  hashOf,
  ID_PATTERN,
  randomId,
  readCookie,
  readCookiesStartingWith,
  setCookie,
  Signer,
  type CookieScope,
  type SetCookie,
} from './cookies.js';
import { errorResponse, errorResult, NO_COOKIES, wantsHtml, type FlowResult, type PlainRequest, type UserAuth } from './results.js';
import { safeReturnTo } from './return-to.js';
import type { SessionStore } from './session-store.js';

/** The framework-free login flow: what an adapter calls for every request in user mode. */
export interface LoginFlow {
  /**
   * Runs the flow's routes (`GET {mountPath}/login`, `GET {mountPath}/callback`,
   * `POST {mountPath}/logout`); any other request gives `continue` with the request's UserAuth.
   * Never rejects: errors come back as a `respond` result.
   */
  handle(req: PlainRequest): Promise<FlowResult>;
  /**
   * Undefined when `auth` is signed in; else a redirect to the login with `returnTo` set to this
   * request's path (browsers: `Accept: text/html`), or a 401 JSON `{ "error": "login_required" }`.
   */
  requireLogin(req: PlainRequest, auth: UserAuth): FlowResult | undefined;
  /** Where the routes live. @default '/auth' */
  readonly mountPath: string;
  /** Closes every session's token client and the shared connection pool. */
  close(): Promise<void>;
}

/** The validated settings of a flow (see ProdoAuthOptions for each one's meaning and default). */
export interface LoginFlowSettings {
  readonly client: TokenClientOptions & { readonly grant: AuthorizationCodeGrant };
  readonly store: TokenStore;
  readonly sessionStore: SessionStore;
  readonly secrets: readonly string[];
  readonly mountPath: string;
  readonly https: boolean;
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly loginMs: number;
  readonly maxLiveSessions: number;
}

const SESSION_COOKIE = 'prodo-auth.sid';
/** Every redirect of the flow: none may be cached and replayed (a login redirect holds a single-use state). */
const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': 'no-store' });
/** Login binding cookies are `prodo-auth.login.<first 8 characters of the hash of the value>`. */
const BINDING_COOKIE = 'prodo-auth.login.';
/** The idle timestamp in the cookie is re-stamped at most this often. */
const RESTAMP_MS = 60_000;

interface Live {
  readonly client: TokenClient;
  readonly auth: UserAuth;
  /** The session store key of the session, hash included: computed once, not per request. */
  readonly key: string;
  /** The result of a request that needs no re-stamp: one frozen object, not one per request. */
  readonly result: FlowResult;
}

interface Session {
  readonly id: string;
  readonly createdAt: number;
  readonly seenAt: number;
}

const anonymousError = (): ReauthenticationRequiredError =>
  new ReauthenticationRequiredError('Nobody is signed in: send the user to the login (requireLogin)');

/** The UserAuth of a request without a valid session: one frozen object for all of them. */
const ANONYMOUS: UserAuth = Object.freeze({
  isAuthenticated: false,
  getAccessToken: () => Promise.reject(anonymousError()),
  fetch: () => Promise.reject(anonymousError()),
});

/** The result of every request without a valid session. */
const ANONYMOUS_RESULT: FlowResult = Object.freeze({ kind: 'continue', auth: ANONYMOUS, cookies: NO_COOKIES });
/** The three possible cookie scopes (https is always Secure), shared: scopeOf allocates nothing. */
const SCOPES = Object.freeze({
  http: Object.freeze({ insecure: Object.freeze({ https: false, secure: false }), secure: Object.freeze({ https: false, secure: true }) }),
  https: Object.freeze({ secure: Object.freeze({ https: true, secure: true }) }),
});
/** Hosts whose loopback answer is cached; beyond it the cache starts over (Host is client-chosen). */
const MAX_CACHED_HOSTS = 256;

const sessionKey = (idHash: string): string => `prodo-auth:session:${idHash}`;
const tokenKey = (idHash: string): string => `prodo-auth:user:${idHash}`;
const loginKey = (state: string): string => `prodo-auth:login:${hashOf(state)}`;

/** Splits `path?query` (or an absolute-form URL) into its path and its query. */
function splitUrl(url: string): { path: string; query: string } {
  if (!url.startsWith('/')) {
    try {
      const u = new URL(url);
      return { path: u.pathname, query: u.search.slice(1) };
    } catch {
      return { path: url, query: '' };
    }
  }
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The flow behind createProdoAuth in user mode. */
export function createLoginFlow(settings: LoginFlowSettings): LoginFlow {
  const signer = new Signer(settings.secrets);
  const { sessionStore, store, mountPath } = settings;
  const routes = { login: `${mountPath}/login`, callback: `${mountPath}/callback`, logout: `${mountPath}/logout` };
  /**
   * Live token clients by session id, least recently used first. Keyed by the id so that a warm
   * request does not hash it again; the map lives in this closure only, and no id leaves it.
   */
  const live = new Map<string, Live>();
  /** Whether a Host header (as received, port included) names this machine; bounded. */
  const loopbackHosts = new Map<string, boolean>();
  const sessionCookieNames = { http: SESSION_COOKIE, https: cookieName(SESSION_COOKIE, SCOPES.https.secure) };
  let closed = false;
  // The options are checked once, and every session's client shares one transport: one connection
  // pool, never a dispatcher per user. A session's client is made at its first request after a
  // restart or an eviction, and costs only its own state.
  const clients = tokenClientFactory({ ...settings.client, store });

  const scopeOf = (req: PlainRequest): CookieScope => {
    if (req.secure === true || settings.https) return SCOPES.https.secure;
    // Plain http is accepted only to this machine; anywhere else the cookie is Secure (and a
    // browser on plain http drops it, which beats a session id in clear text).
    return isLoopbackHost(first(req.headers.host) ?? '') ? SCOPES.http.insecure : SCOPES.http.secure;
  };

  /** Parses a Host header once per distinct value: a URL per request costs more than the rest of scopeOf. */
  function isLoopbackHost(header: string): boolean {
    let loopback = loopbackHosts.get(header);
    if (loopback === undefined) {
      const host = header.replace(/:\d+$/, '');
      loopback = host !== '' && URL.canParse(`http://${host}`) && isLoopback(new URL(`http://${host}`));
      if (loopbackHosts.size >= MAX_CACHED_HOSTS) loopbackHosts.clear();
      loopbackHosts.set(header, loopback);
    }
    return loopback;
  }


  /** The token client of a session, created on first use; the least recently used is closed beyond the cap. */
  function liveClient(id: string): Live {
    let entry = live.get(id);
    if (entry !== undefined) {
      live.delete(id);
      live.set(id, entry);
      return entry;
    }
    const idHash = hashOf(id);
    const client = clients.create(tokenKey(idHash));
    const auth: UserAuth = Object.freeze({
      isAuthenticated: true,
      getAccessToken: () => client.getAccessToken(),
      fetch: (input, init) => client.fetch(input, init),
    } satisfies UserAuth);
    entry = { client, auth, key: sessionKey(idHash), result: Object.freeze({ kind: 'continue', auth, cookies: NO_COOKIES }) };
    live.set(id, entry);
    if (live.size > settings.maxLiveSessions) {
      // Dropped, not closed: a request of that session may still be using it (a code exchange, a
      // refresh), and closing would fail it. Its tokens stay in the store, the next request of the
      // session makes a new client that reads them, and the dropped one is collected once idle
      // (it owns no transport and no timer that keeps it).
      live.delete(live.keys().next().value!);
    }
    return entry;
  }

  async function dropSession(id: string): Promise<void> {
    const idHash = hashOf(id);
    const entry = live.get(id);
    live.delete(id);
    await Promise.all([sessionStore.delete(sessionKey(idHash)), store.delete(tokenKey(idHash)), entry?.client.close()]);
  }

  function sessionCookie(session: Session, scope: CookieScope): SetCookie {
    const payload = `${session.id}.${session.createdAt.toString(36)}.${session.seenAt.toString(36)}`;
    const maxAge = Math.min(settings.idleMs, session.createdAt + settings.absoluteMs - session.seenAt) / 1000;
    return setCookie(cookieName(SESSION_COOKIE, scope), signer.sign(payload), maxAge, scope);
  }

  /** The session a request's cookie names, if its signature and both lifetimes check out. */
  function readSession(req: PlainRequest, scope: CookieScope, now: number): Session | undefined {
    const value = readCookie(cookieHeader(req.headers.cookie), scope.https ? sessionCookieNames.https : sessionCookieNames.http);
    if (value === undefined) return undefined;
    const payload = signer.verify(value);
    if (payload === undefined) return undefined;
    // `<id>.<createdAt>.<seenAt>` (base 36), read as split('.') would, without the array.
    const a = payload.indexOf('.');
    const b = a === -1 ? -1 : payload.indexOf('.', a + 1);
    const c = b === -1 ? -1 : payload.indexOf('.', b + 1);
    const id = a === -1 ? payload : payload.slice(0, a);
    const createdAt = a === -1 ? NaN : parseInt(payload.slice(a + 1, b === -1 ? payload.length : b), 36);
    const seenAt = b === -1 ? NaN : parseInt(payload.slice(b + 1, c === -1 ? payload.length : c), 36);
    if (!ID_PATTERN.test(id) || !(createdAt <= seenAt) || seenAt > now + RESTAMP_MS) return undefined;
    if (now - seenAt >= settings.idleMs || now - createdAt >= settings.absoluteMs) return undefined;
    return { id, createdAt, seenAt };
  }

  async function resume(req: PlainRequest): Promise<FlowResult> {
    const now = Date.now();
    const scope = scopeOf(req);
    const session = readSession(req, scope, now);
    if (session === undefined) return ANONYMOUS_RESULT;
    // A live session's store key (and the hash in it) was computed when its client was made.
    const key = live.get(session.id)?.key ?? sessionKey(hashOf(session.id));
    // A read, never a write: an ordinary request cannot overwrite what sign-in, refresh or logout wrote.
    const record = await sessionStore.get(key);
    if (record?.createdAt !== session.createdAt || closed) return ANONYMOUS_RESULT;
    const entry = liveClient(session.id);
    // The idle lifetime rides in the signed cookie: re-stamped at most once a minute, by Set-Cookie only.
    if (now - session.seenAt < RESTAMP_MS) return entry.result;
    return { kind: 'continue', auth: entry.auth, cookies: [sessionCookie({ ...session, seenAt: now }, scope)] };
  }

  async function login(req: PlainRequest, query: URLSearchParams): Promise<FlowResult> {
    const scope = scopeOf(req);
    const prefix = cookieName(BINDING_COOKIE, scope);
    // One binding per browser, shared by parallel logins. Two first logins that leave at the same
    // instant each make one, under different names, so neither overwrites the other.
    const existing = readCookiesStartingWith(cookieHeader(req.headers.cookie), prefix).find(
      ([name, value]) => ID_PATTERN.test(value) && name === prefix + hashOf(value).slice(0, 8),
    );
    const binding = existing?.[1] ?? randomId();
    const { grant } = settings.client;
    // With only an issuer configured, the authorization endpoint comes from discovery (once,
    // through the sessions' shared transport); a grant without the async form builds it at once.
    const request = await (grant.resolveAuthorizationRequest?.({ transport: clients.transport }) ?? grant.createAuthorizationRequest());
    const transaction = {
      verifier: request.codeVerifier,
      returnTo: safeReturnTo(query.get('returnTo')),
      binding: hashOf(binding),
      expiresAt: Date.now() + settings.loginMs,
    };
    await sessionStore.set(loginKey(request.state), transaction, settings.loginMs);
    const cookie = setCookie(prefix + hashOf(binding).slice(0, 8), binding, settings.loginMs / 1000, scope);
    return { kind: 'redirect', status: 302, location: request.url, headers: NO_STORE, cookies: [cookie] };
  }

  async function callback(req: PlainRequest, query: URLSearchParams): Promise<FlowResult> {
    const state = query.get('state');
    const asError = query.get('error');
    const transaction = state ? await sessionStore.take(loginKey(state)) : undefined;
    if (asError !== null) {
      // The authorization server's answer (RFC 6749 section 4.1.2.1): shown, never a 500. Its
      // description is the server's text, escaped; the login's transaction is spent.
      const status = asError === 'access_denied' ? 403 : 400;
      const code = /^[\x21-\x7e]{1,64}$/.test(asError) ? asError : 'login_failed';
      const description = (query.get('error_description') ?? '').slice(0, 300) || 'The sign-in was not completed.';
      return errorResponse(req, status, code, description);
    }
    if (!state) return errorResponse(req, 400, 'invalid_state', 'The sign-in callback has no state: start the sign-in again.');
    if (transaction === undefined || typeof transaction.expiresAt !== 'number' || Date.now() >= transaction.expiresAt) {
      return errorResponse(req, 400, 'invalid_state', 'This sign-in is unknown, was already used or has expired: start the sign-in again.');
    }
    const scope = scopeOf(req);
    const header = cookieHeader(req.headers.cookie);
    const bound = readCookiesStartingWith(header, cookieName(BINDING_COOKIE, scope)).some(([, v]) => hashOf(v) === transaction.binding);
    if (!bound) {
      return errorResponse(req, 400, 'invalid_state', 'This sign-in was started in another browser: start the sign-in again here.');
    }
    const code = query.get('code');
    if (!code) return errorResponse(req, 400, 'invalid_request', 'The sign-in callback has no code: start the sign-in again.');

    // A new id at every sign-in: a session id planted before the login is worth nothing after it.
    const session: Session = { id: randomId(), createdAt: Date.now(), seenAt: Date.now() };
    const { client, key } = liveClient(session.id);
    try {
      // Once: the code is single-use, and the transport never resends it.
      await client.exchangeCode({ code, codeVerifier: String(transaction.verifier) });
      await sessionStore.set(key, { createdAt: session.createdAt }, settings.absoluteMs);
    } catch (error) {
      await dropSession(session.id).catch(() => undefined);
      if (isProdoAuthError(error) && error.code === ErrorCode.OAUTH && (error as OAuthError).error === 'invalid_grant') {
        return errorResponse(req, 400, 'login_failed', 'The authorization server refused the sign-in code: start the sign-in again.');
      }
      return errorResult(error, req);
    }
    // Signing in as someone else ends the previous session, tokens included.
    const previous = readSession(req, scope, Date.now());
    if (previous !== undefined) await dropSession(previous.id);
    return { kind: 'redirect', status: 302, location: String(transaction.returnTo), headers: NO_STORE, cookies: [sessionCookie(session, scope)] };
  }

  async function logout(req: PlainRequest, query: URLSearchParams): Promise<FlowResult> {
    const scope = scopeOf(req);
    if (!sameOrigin(req, scope)) {
      return errorResponse(req, 403, 'cross_site_request', 'Sign-out must come from this site (Origin or Sec-Fetch-Site).');
    }
    const session = readSession(req, scope, Date.now());
    if (session !== undefined) {
      // RFC 7009, when the grant knows a revocation endpoint (configured, or from discovery): the
      // refresh token dies at the server too, not only here. revoke() drops the tokens before it
      // sends, and a failed revocation never fails the sign-out: the session ends either way.
      await liveClient(session.id).client.revoke().catch(() => undefined);
      await dropSession(session.id);
    }
    const cookies = [setCookie(cookieName(SESSION_COOKIE, scope), '', 0, scope)];
    if (wantsHtml(req)) return { kind: 'redirect', status: 303, location: safeReturnTo(query.get('returnTo')), headers: NO_STORE, cookies };
    return { kind: 'respond', status: 204, headers: { 'cache-control': 'no-store' }, body: '', cookies };
  }

  // Not async: returning resume()'s promise as it is spares two microtask hops per request. A
  // synchronous throw here is caught by handle()'s try, as a rejection would be.
  function route(req: PlainRequest): Promise<FlowResult> {
    const { path, query } = splitUrl(req.url);
    const method = req.method.toUpperCase();
    if (path === routes.login || path === routes.callback) {
      if (method !== 'GET') return Promise.resolve(notAllowed(req, 'GET'));
      return path === routes.login ? login(req, new URLSearchParams(query)) : callback(req, new URLSearchParams(query));
    }
    if (path === routes.logout) return method === 'POST' ? logout(req, new URLSearchParams(query)) : Promise.resolve(notAllowed(req, 'POST'));
    return resume(req);
  }

  return {
    mountPath,
    handle(req) {
      // No async wrapper: one derived promise, not an async frame and an await per request.
      try {
        return route(req).catch((error: unknown) => errorResult(error, req));
      } catch (error) {
        return Promise.resolve(errorResult(error, req));
      }
    },
    requireLogin(req, auth) {
      if (auth.isAuthenticated) return undefined;
      if (wantsHtml(req) && (req.method === 'GET' || req.method === 'HEAD')) {
        const { path, query } = splitUrl(req.url);
        const returnTo = safeReturnTo(query === '' ? path : `${path}?${query}`);
        const location = `${routes.login}?returnTo=${encodeURIComponent(returnTo)}`;
        return { kind: 'redirect', status: 302, location, headers: NO_STORE, cookies: NO_COOKIES };
      }
      return errorResponse(req, 401, 'login_required', 'Sign in to continue.');
    },
    async close() {
      closed = true;
      const open = [...live.values()].map((l) => l.client.close());
      live.clear();
      await Promise.all([...open, clients.transport.close()]);
    },
  };
}

function notAllowed(req: PlainRequest, allow: string): FlowResult {
  const result = errorResponse(req, 405, 'method_not_allowed', `Use ${allow}.`);
  return result.kind === 'respond' ? { ...result, headers: { ...result.headers, allow } } : result;
}

/**
 * A state-changing request from this site only: `Sec-Fetch-Site` (every current browser sends
 * it) must be `same-origin` or `none`; without it, `Origin` must be this host. A request with
 * neither is refused: a browser posting a form sends at least `Origin`.
 */
function sameOrigin(req: PlainRequest, scope: CookieScope): boolean {
  const site = first(req.headers['sec-fetch-site']);
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = first(req.headers.origin);
  const host = first(req.headers.host);
  if (origin === undefined || host === undefined) return false;
  return origin === `${scope.https ? 'https' : 'http'}://${host}`;
}
