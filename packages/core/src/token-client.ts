/**
 * The token engine: a cache that answers warm calls with no I/O, refreshes in the background
 * before expiry, makes one request however many callers wait, and never spends a refresh token
 * twice.
 */
import type { Channel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import type { Dispatcher, RequestInit, Response } from 'undici';
import { ConfigError, ErrorCode, isProdoAuthError, ProdoAuthError, ReauthenticationRequiredError, sanitizeCause } from './errors.js';
import type { Grant, GrantContext, RevocableToken } from './grant.js';
import type { AuthorizationCodeGrant, CodeExchange } from './grants/authorization-code.js';
import { clientFetch } from './outbound/client-fetch.js';
import { SecretSet } from './redact.js';
import { nodeCrypto } from './node-crypto.js';
import { isMemoryStore, memoryStore, type TokenStore } from './store.js';
import { TokenSet, type StoredTokenSet } from './token-set.js';
import { Transport, type RetryOptions } from './transport.js';
import { parseTokenClientOptions } from './token-client-options.js';
import { tokenRequestChannel, tokenServedChannel, type TokenRequestContext, type TokenServedMessage } from './tracing.js';

export interface TokenClientOptions {
  /** How to get tokens: `passwordGrant(...)`, `clientCredentialsGrant(...)`, a preset's grant... */
  grant: Grant;
  /** The API the tokens are for: relative URLs in `fetch` resolve against it, and only its origin gets the token. */
  apiUrl?: string | undefined;
  /** Headers sent on every API call unless the call sets its own (a vendor's media type). */
  apiHeaders?: Record<string, string> | undefined;
  /**
   * Where tokens are kept.
   * @default memoryStore()
   */
  store?: TokenStore | undefined;
  /**
   * The key under which this client's tokens are stored. Default: derived from the grant's
   * endpoint, client and user (never from a secret).
   */
  storeKey?: string | undefined;
  /**
   * How long before expiry a background refresh starts, in seconds (at most half the token's lifetime).
   * @default 60
   */
  refreshSkewSeconds?: number | undefined;
  /**
   * Deadline for one token request, retries included, in ms.
   * @default 10000
   */
  timeoutMs?: number | undefined;
  /** An undici dispatcher for token requests and `fetch` (a proxy agent, a custom pool). */
  dispatcher?: Dispatcher | undefined;
  /**
   * Largest token response accepted, in bytes.
   * @default 1048576
   */
  maxResponseBytes?: number | undefined;
  retry?: RetryOptions | undefined;
  /**
   * Allow a plain `http:` apiUrl off loopback. The token then crosses the network in clear text.
   * @default false
   */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

/** How a TokenSet was obtained. */
export type TokenSource = 'obtain' | 'refresh' | 'exchange' | 'store' | 'set';

export interface TokenEvent {
  grant: string;
  source: TokenSource;
  /** The new tokens; their values never show in logs or JSON. */
  tokenSet: TokenSet;
}

/**
 * A refresh failed (the client then tries its primary credentials), or no new token could be
 * obtained at all. Never carries a token or secret: errors are redacted.
 */
export interface RefreshErrorEvent {
  grant: string;
  error: unknown;
  /** True when callers keep getting the current, still valid access token. */
  servingCurrentToken: boolean;
}

/** One request to the token endpoint, for metrics and tracing. Carries no token or secret. */
export interface TokenRequestEvent {
  grant: string;
  /** `exchange` is an authorization code exchange; `revoke` an RFC 7009 revocation. */
  kind: 'obtain' | 'refresh' | 'exchange' | 'revoke';
  durationMs: number;
  outcome: 'success' | 'error';
  errorCode?: string | undefined;
}

export interface StoreErrorEvent {
  operation: 'get' | 'set' | 'delete' | 'lock';
  error: unknown;
}

export interface TokenClientEvents {
  token: [TokenEvent];
  refresh_error: [RefreshErrorEvent];
  token_request: [TokenRequestEvent];
  store_error: [StoreErrorEvent];
}

export interface RevokeOptions {
  /**
   * Revoke the access token too (a server that revokes a refresh token usually drops the access
   * tokens issued with it; this asks explicitly).
   * @default false
   */
  accessToken?: boolean | undefined;
}

export interface RevokeResult {
  /** The tokens the server confirmed revoked (HTTP 200), in the order they were sent. */
  revoked: RevocableToken[];
  /** False when the grant has no revocation endpoint, configured or discovered: nothing was sent. */
  endpointKnown: boolean;
}

/** What an outbound request needs to be authorized. */
export interface OutboundRequest {
  method?: string | undefined;
  url?: string | URL | undefined;
}

/** A cached, self-refreshing source of access tokens for one grant. */
export interface TokenClient extends EventEmitter<TokenClientEvents> {
  /** The grant's name, e.g. `password`. */
  readonly grantType: string;
  /** The API base URL, if configured. */
  readonly apiUrl: string | undefined;
  /** A valid access token: from cache with no I/O when fresh, else after one shared request. */
  getAccessToken(): Promise<string>;
  /** The current TokenSet, acquiring one if needed. */
  getTokenSet(): Promise<TokenSet>;
  /** `Bearer <token>`, whatever case the server used for `token_type`. */
  authorizationHeader(): Promise<string>;
  /** The headers an outbound request needs: `authorization` and the configured API headers. */
  requestHeaders(request?: OutboundRequest): Promise<Record<string, string>>;
  /**
   * Drops the cached access token (keeping the refresh token), only if it is still `token` when
   * given: a late 401 for an old token never throws away a newer one.
   */
  invalidate(token?: string): Promise<void>;
  /** `fetch` with the token added; on a 401 it gets a new token and retries once. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** Exchanges an authorization code (authorization code grant only) and caches the tokens. */
  exchangeCode(exchange: CodeExchange): Promise<TokenSet>;
  /** Caches a TokenSet obtained elsewhere. */
  setTokenSet(tokenSet: TokenSet): Promise<void>;
  /**
   * Revokes this client's tokens at the RFC 7009 revocation endpoint (configured, or from the
   * issuer's discovery) with the grant's client authentication: the refresh token, and the access
   * token when `accessToken: true`. The tokens are dropped from memory and from the store first,
   * whatever the server then answers, so they are never used again; a grant that can obtain
   * tokens on its own gets new ones on the next call.
   *
   * Resolves `{ revoked, endpointKnown }` (`revoked` empty when there was no token, or no
   * revocation endpoint). Rejects with the typed error (`OAuthError`, `TokenEndpointError`, or a
   * `ConfigError` from discovery) when a revocation request failed; each request is sent once,
   * never retried blindly (only when it surely never reached the server, or on a 429).
   *
   * @see https://www.rfc-editor.org/rfc/rfc7009
   */
  revoke(options?: RevokeOptions): Promise<RevokeResult>;
  /** Stops everything: aborts requests in flight and closes connections this client opened. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}


/** Tokens kept for redaction beyond the current ones: a server may echo a token we just replaced. */
const REMEMBERED_TOKENS = 6;
const SPENT_REFRESH_TOKENS = 32;
const BACKGROUND_RETRY_MIN_MS = 1000;
const BACKGROUND_RETRY_MAX_MS = 30_000;
/**
 * Without `withLock`, how long a client waits after recording its claim on a refresh before
 * checking that no other client overwrote it: longer than any store takes to land a write.
 */
const CLAIM_SETTLE_MS = 50;
/** How often a client re-reads the store while another client holds the claim on a refresh. */
const CLAIM_POLL_MS = 25;

/** A validated store entry, and the claim of the client presenting its refresh token, if any. */
interface StoreEntry {
  tokenSet: TokenSet;
  claim: { id: string; expiresAt: number } | undefined;
}

/** How recording a refresh token as spent went: see `#claimRefresh`. */
type Claim = { kind: 'recorded' } | { kind: 'unrecorded' } | { kind: 'lost'; entry: StoreEntry | undefined };

class DefaultTokenClient extends EventEmitter<TokenClientEvents> implements TokenClient {
  readonly grantType: string;
  readonly apiUrl: string | undefined;
  readonly #grant: Grant;
  readonly #apiOrigin: string | undefined;
  readonly #apiHeaders: Record<string, string>;
  readonly #store: TokenStore;
  /** memoryStore() answers at once: its calls need no deadline (a timer per call). */
  readonly #storeAnswersAtOnce: boolean;
  readonly #key: string;
  readonly #skewMs: number;
  readonly #transport: Transport;
  /** False for the clients of a tokenClientFactory: their shared transport is closed by its owner. */
  readonly #ownsTransport: boolean;
  #secrets: SecretSet;
  /** The diagnostics channel of tokens served (see tracing.ts). */
  readonly #served: Channel = tokenServedChannel();
  readonly #recentTokens: string[] = [];
  readonly #spent: string[] = [];

  #current: TokenSet | undefined;
  /** Refresh in the background from here on (epoch ms; Infinity when the expiry is unknown). */
  #refreshAt = 0;
  /** The access token is unusable from here on (epoch ms; Infinity when unknown). */
  #expiresAt = 0;
  #inflight: Promise<TokenSet> | undefined;
  #nextBackgroundAt = 0;
  #backgroundFailures = 0;
  /** Tokens that arrived already due for refresh are served until then rather than re-requested. */
  #staleUntil = 0;
  #staleFailures = 0;
  /** The id of this client's latest claim on a stored refresh token. */
  #ownClaim: string | undefined;
  #closed = false;

  /** @param parsed - options parseTokenClientOptions() already checked (the login flow's clients). */
  /**
   * @param shared - from {@link tokenClientFactory}: options it already checked, and the one
   *   transport (connection pool) its clients share, which a client then neither owns nor closes.
   */
  constructor(options: TokenClientOptions, shared?: { transport: Transport }) {
    super();
    const o = shared ? options : parseTokenClientOptions(options);
    this.#grant = o.grant;
    this.grantType = o.grant.type;
    this.apiUrl = o.apiUrl;
    this.#apiOrigin = o.apiUrl === undefined ? undefined : new URL(o.apiUrl).origin;
    this.#apiHeaders = Object.fromEntries(Object.entries(o.apiHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.#store = o.store ?? memoryStore();
    this.#storeAnswersAtOnce = isMemoryStore(this.#store);
    this.#key = o.storeKey ?? `prodo-auth:${o.grant.type}:${o.grant.cacheKey}`;
    this.#skewMs = (o.refreshSkewSeconds ?? 60) * 1000;
    this.#transport = shared?.transport ?? transportOf(o);
    this.#ownsTransport = shared === undefined;
    this.#secrets = new SecretSet().merge(o.grant.secrets);
  }

  getAccessToken(): Promise<string> {
    // The hot path: a fresh token costs a clock read and a comparison.
    if (this.#current !== undefined && Date.now() < this.#refreshAt) {
      // One property read when nobody listens on the diagnostics channel.
      if (this.#served.hasSubscribers) this.#publishServed('cache');
      return Promise.resolve(this.#current.accessToken);
    }
    return this.getTokenSet().then((t) => t.accessToken);
  }

  getTokenSet(): Promise<TokenSet> {
    if (this.#closed) return Promise.reject(closedError());
    const current = this.#current;
    const now = Date.now();
    const observed = this.#served.hasSubscribers;
    if (current !== undefined && now < this.#refreshAt) {
      if (observed) this.#publishServed('cache');
      return Promise.resolve(current);
    }
    // The server keeps issuing tokens that are stale on arrival: back off instead of one request per call.
    if (current !== undefined && now < this.#staleUntil) {
      if (observed) this.#publishServed('cache');
      return Promise.resolve(current);
    }
    if (current !== undefined && now < this.#expiresAt) {
      this.#refreshInBackground(now);
      if (observed) this.#publishServed('cache');
      return Promise.resolve(current);
    }
    if (observed) this.#publishServed('server');
    return this.#acquire();
  }

  #publishServed(source: TokenServedMessage['source']): void {
    this.#served.publish({ grant: this.grantType, source } satisfies TokenServedMessage);
  }

  async authorizationHeader(): Promise<string> {
    return `Bearer ${await this.getAccessToken()}`;
  }

  requestHeaders(_request: OutboundRequest = {}): Promise<Record<string, string>> {
    // On every outbound call: a warm token costs no extra promise hop.
    const current = this.#current;
    if (current !== undefined && Date.now() < this.#refreshAt) {
      if (this.#served.hasSubscribers) this.#publishServed('cache');
      return Promise.resolve({ ...this.#apiHeaders, authorization: `Bearer ${current.accessToken}` });
    }
    return this.getAccessToken().then((token) => ({ ...this.#apiHeaders, authorization: `Bearer ${token}` }));
  }

  async invalidate(token?: string): Promise<void> {
    const current = this.#current;
    if (current === undefined || (token !== undefined && current.accessToken !== token)) return;
    this.#grant.rejected?.(current.accessToken);
    // Keep the refresh token: only the access token was rejected. A stale token served during the
    // backoff is not served again once the API has refused it: the next call asks for a new one.
    this.#staleUntil = 0;
    const expired = current.with({ expiresAt: 0 });
    this.#setCurrent(expired);
    await this.#write(expired);
  }

  fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    return clientFetch(this, this.#apiOrigin, input, init, () => this.#transport.getDispatcher());
  }

  async exchangeCode(exchange: CodeExchange): Promise<TokenSet> {
    const grant = this.#grant as Partial<AuthorizationCodeGrant>;
    if (typeof grant.exchangeCode !== 'function') {
      throw new ConfigError(`exchangeCode needs an authorization code grant, not '${this.grantType}'`);
    }
    const exchangeCode = grant.exchangeCode.bind(grant);
    return this.#request('exchange', (ctx) => exchangeCode(ctx, exchange));
  }

  async setTokenSet(tokenSet: TokenSet): Promise<void> {
    tokenSet = TokenSet.from(tokenSet);
    this.#accept(tokenSet, 'set');
    await this.#write(tokenSet);
  }

  async revoke(options: RevokeOptions = {}): Promise<RevokeResult> {
    if (this.#closed) throw closedError();
    // A token request in flight would land after the drop and bring the tokens back.
    await this.#inflight?.catch(() => undefined);
    const entry = await this.#read();
    this.#take(entry);
    const current = this.#current;
    this.#current = undefined;
    this.#refreshAt = 0;
    this.#expiresAt = 0;
    this.#ownClaim = undefined;
    try {
      await this.#bounded('delete', this.#transport.timeoutMs, () => this.#store.delete(this.#key));
    } catch (error) {
      this.#storeError('delete', error);
    }
    const tokens: Array<[RevocableToken, string]> = [];
    if (current?.refreshToken !== undefined) {
      this.#markSpent(current.refreshToken);
      tokens.push(['refresh_token', current.refreshToken]);
    }
    if (options.accessToken === true && current !== undefined) tokens.push(['access_token', current.accessToken]);
    const revoke = this.#grant.revoke?.bind(this.#grant);
    if (revoke === undefined) return { revoked: [], endpointKnown: false };
    const revoked: RevocableToken[] = [];
    let endpointKnown = true;
    let failure: unknown;
    for (const [hint, token] of tokens) {
      try {
        const sent = await this.#traced('revoke', (ctx) => revoke(ctx, token, hint));
        if (!sent) {
          endpointKnown = false;
          break;
        }
        revoked.push(hint);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw this.#closed ? closedError(failure) : failure;
    return { revoked, endpointKnown };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#current = undefined;
    this.#refreshAt = 0;
    this.#expiresAt = 0;
    if (this.#ownsTransport) await this.#transport.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Callers never wait for this; failures back off so a down server is not hammered. */
  #refreshInBackground(now: number): void {
    if (this.#inflight !== undefined || now < this.#nextBackgroundAt) return;
    const before = this.#current;
    const failed = (): void => {
      const backoff = BACKGROUND_RETRY_MIN_MS * 2 ** this.#backgroundFailures++;
      this.#nextBackgroundAt = Date.now() + Math.min(backoff, BACKGROUND_RETRY_MAX_MS);
    };
    // A failed refresh resolves with the current token (still valid), so "nothing new" is failure.
    this.#acquire().then((t) => {
      if (t === before) failed();
      else this.#backgroundFailures = 0;
    }, failed);
  }

  /** Single-flight: every caller shares the one acquisition in progress. */
  #acquire(): Promise<TokenSet> {
    this.#inflight ??= this.#acquireShared().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #acquireShared(): Promise<TokenSet> {
    if (this.#store.withLock === undefined) return this.#acquireOnce();
    const lockTtlMs = this.#transport.timeoutMs * 2 + 1000;
    let ran = false;
    let alone: Promise<TokenSet> | undefined;
    const run = (): Promise<TokenSet> => {
      ran = true;
      // The lock came after this client gave up waiting for it: never a second acquisition.
      return alone ?? this.#acquireOnce();
    };
    try {
      // The wait for the lock is bounded too: a store that never answers must not hang callers.
      return await this.#bounded('lock', lockTtlMs, () => this.#store.withLock!(`${this.#key}:lock`, lockTtlMs, run), () => !ran);
    } catch (error) {
      if (ran) throw error;
      // The lock itself failed or did not come in time (a shared store is down): carry on alone.
      this.#storeError('lock', error);
      alone = this.#acquireOnce();
      return alone;
    }
  }

  /**
   * A store call with a deadline: a store that never answers (Redis down behind an offline queue)
   * fails the call with `ErrorCode.STORE` after `ms`, while `stillBounded()` holds.
   */
  #bounded<T>(
    operation: StoreErrorEvent['operation'],
    ms: number,
    call: () => Promise<T>,
    stillBounded: () => boolean = () => true,
  ): Promise<T> {
    const pending = Promise.resolve().then(call);
    if (this.#storeAnswersAtOnce) return pending;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      // Ref'd: a caller awaits this, and the timer is what bounds the wait.
      timer = setTimeout(() => {
        if (!stillBounded()) return;
        reject(new ProdoAuthError(`The token store did not answer a ${operation} within ${ms} ms`, { code: ErrorCode.STORE }));
      }, ms);
    });
    pending.catch(() => undefined);
    return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * Reports a store failure. The store's own error may hold what it was given (ioredis puts a
   * command's arguments, the serialised tokens among them, on its errors): it is passed on only as a
   * sanitized cause, with every token this client knows redacted.
   */
  #storeError(operation: StoreErrorEvent['operation'], error: unknown): void {
    const secrets = this.#secrets;
    const failure =
      isProdoAuthError(error) && error.code === ErrorCode.STORE
        ? error
        : new ProdoAuthError(`The token store's ${operation} failed`, {
            code: ErrorCode.STORE,
            cause: sanitizeCause(error, (t) => secrets.redact(t)),
          });
    this.emit('store_error', { operation, error: failure });
  }

  async #acquireOnce(): Promise<TokenSet> {
    try {
      return await this.#acquireFromStoreOrServer();
    } catch (error) {
      const current = this.#current;
      const serving = current !== undefined && Date.now() < this.#expiresAt;
      this.emit('refresh_error', { grant: this.grantType, error, servingCurrentToken: serving });
      if (serving) return current;
      throw error;
    }
  }

  async #acquireFromStoreOrServer(): Promise<TokenSet> {
    const entry = await this.#read();
    this.#take(entry);
    const other = entry?.claim !== undefined && entry.claim.id !== this.#ownClaim ? entry.claim : undefined;
    if (other !== undefined && !(this.#current !== undefined && this.#current.issuedAt > entry!.tokenSet.issuedAt)) {
      // Another client is presenting this entry's refresh token: serve the still-valid access
      // token, or wait for that client's result, which beats a new login.
      if (this.#current !== undefined && Date.now() < this.#expiresAt) return this.#current;
      await this.#awaitClaim(other);
    }
    let current = this.#current;
    if (current !== undefined && Date.now() < this.#refreshAt) return current;

    let refreshError: unknown;
    const refresh = this.#grant.refresh?.bind(this.#grant);
    if (current?.canRefresh() && refresh !== undefined && !this.#spent.includes(current.refreshToken!)) {
      const refreshToken = current.refreshToken!;
      const claim = await this.#claimRefresh(current);
      if (claim.kind === 'lost') {
        // Another client sharing the store is presenting it: never send it too, wait for its result.
        this.#markSpent(refreshToken);
        this.#take(claim.entry);
        if (Date.now() < this.#expiresAt) return this.#current!;
        if (claim.entry?.claim !== undefined) await this.#awaitClaim(claim.entry.claim);
        current = this.#current;
        if (current !== undefined && Date.now() < this.#refreshAt) return current;
      } else if (claim.kind === 'unrecorded') {
        // The store still holds it and could not be told it is spent: another client could send it
        // again, so keep it unused here (for when the store is back) and do without it.
        refreshError = new ProdoAuthError(
          'The refresh token was not used: the token store could not record it as spent, so another client sharing the store might send it again (see the store_error event)',
          { code: ErrorCode.REAUTHENTICATION_REQUIRED },
        );
      } else {
        const presented = current;
        try {
          return await this.#request('refresh', (ctx) => refresh(ctx, presented), refreshToken);
        } catch (error) {
          // Never sent: the refresh token is unspent and the server unreachable; a new login would fail too.
          if (isProdoAuthError(error) && (error as { requestSent?: unknown }).requestSent === false) {
            this.#unspend(refreshToken);
            // The store was told it is spent; give it back so that it is not lost if this process ends.
            if (this.#current === presented) await this.#write(presented);
            throw error;
          }
          refreshError = error;
          this.emit('refresh_error', {
            grant: this.grantType,
            error,
            servingCurrentToken: Date.now() < this.#expiresAt,
          });
          if (this.#current === presented) {
            const spent = presented.with({ refreshToken: undefined, refreshExpiresAt: undefined });
            this.#setCurrent(spent);
            await this.#write(spent, presented.refreshExpiresAt ?? Infinity);
          }
        }
      }
    }
    if (this.#grant.canObtain) return this.#request('obtain', (ctx) => this.#grant.obtain(ctx));
    throw new ReauthenticationRequiredError(
      refreshError === undefined
        ? 'No valid token and no credentials to get one: the user must log in'
        : 'The refresh failed and there are no credentials to get a new token: the user must log in',
      { cause: refreshError },
    );
  }

  /**
   * Records in the store that `current`'s refresh token is about to be presented, before it is: if
   * this client then dies, or its write of the result fails, no other client finds the spent token
   * there and sends it again. The still-valid access token stays. When the record cannot be
   * written, the token is not presented (`unrecorded`). Without `withLock`, the record carries a
   * random claim, re-read after a pause: of clients that raced to claim, only the one whose claim
   * survived presents the token; the others wait for its result (`lost`).
   */
  async #claimRefresh(current: TokenSet): Promise<Claim> {
    const locked = this.#store.withLock !== undefined;
    const now = Date.now();
    const id = nodeCrypto().randomUUID();
    const marker: StoredTokenSet = current.with({ refreshToken: undefined, refreshExpiresAt: undefined }).toStored();
    if (!locked) marker.refreshClaim = { id, expiresAt: now + this.#transport.timeoutMs + 1000 };
    try {
      // As long as the entry it replaces: a client that still holds the refresh token in memory
      // must find the record, not a miss, until that token expires anyway.
      const ttlMs = (current.refreshExpiresAt ?? Infinity) - now;
      await this.#bounded('set', this.#transport.timeoutMs, () => this.#store.set(this.#key, marker, ttlMs));
    } catch (error) {
      this.#storeError('set', error);
      return { kind: 'unrecorded' };
    }
    if (locked) return { kind: 'recorded' };
    this.#ownClaim = id;
    await sleep(CLAIM_SETTLE_MS);
    const seen = await this.#read();
    return seen?.claim?.id === id ? { kind: 'recorded' } : { kind: 'lost', entry: seen };
  }

  /** Polls the store until another client's claim on the refresh ends (its result lands) or lapses. */
  async #awaitClaim(claim: { id: string; expiresAt: number }): Promise<void> {
    const deadline = performance.now() + Math.max(0, claim.expiresAt - Date.now());
    while (!this.#closed && performance.now() < deadline) {
      await sleep(CLAIM_POLL_MS);
      const entry = await this.#read();
      this.#take(entry);
      if (entry?.claim?.id !== claim.id) return;
    }
  }

  /** Caches a store entry if it is newer than what this client holds. */
  #take(entry: StoreEntry | undefined): void {
    if (entry !== undefined && this.#isNewer(entry.tokenSet)) this.#accept(entry.tokenSet, 'store');
  }

  #markSpent(refreshToken: string): void {
    this.#spent.push(refreshToken);
    if (this.#spent.length > SPENT_REFRESH_TOKENS) this.#spent.shift();
  }

  /** Sends one token request through the grant, records it, and caches the result. */
  async #request(
    kind: 'obtain' | 'refresh' | 'exchange',
    send: (ctx: GrantContext) => Promise<TokenSet>,
    spending?: string,
  ): Promise<TokenSet> {
    if (this.#closed) throw closedError();
    if (spending !== undefined) this.#markSpent(spending);
    let tokenSet: TokenSet;
    try {
      // A grant of another copy of this package returns that copy's TokenSet: take its public surface.
      tokenSet = TokenSet.from(await this.#traced(kind, send));
    } catch (error) {
      throw this.#closed ? closedError(error) : error;
    }
    if (spending !== undefined && tokenSet.refreshToken === spending) {
      // The server returned the same refresh token (RFC 6749 section 6 allows it): it is the
      // newest one returned, so it is live again.
      this.#unspend(spending);
    }
    if (this.#closed) throw closedError();
    this.#accept(tokenSet, kind);
    this.#backOffIfStale(tokenSet);
    await this.#write(tokenSet);
    return tokenSet;
  }

  /**
   * A token already due for refresh when it arrives (its JWT `exp` is in the past by this clock, or
   * its lifetime is shorter than the request took) would cost one request per call. It is served
   * instead (the API decides: most often the clocks disagree) while the next request waits 1 s,
   * doubling to 30 s, like the background refresh; a token that arrives fresh resets it.
   */
  #backOffIfStale(tokenSet: TokenSet): void {
    const now = Date.now();
    if (now < this.#refreshAt) {
      this.#staleFailures = 0;
      this.#staleUntil = 0;
      return;
    }
    const delay = Math.min(BACKGROUND_RETRY_MIN_MS * 2 ** this.#staleFailures++, BACKGROUND_RETRY_MAX_MS);
    this.#staleUntil = now + delay;
    const expired = tokenSet.isExpired(now);
    this.emit('refresh_error', {
      grant: this.grantType,
      error: new ProdoAuthError(
        `The token endpoint issued an access token that is ${expired ? 'already expired' : 'already due for refresh'} by this machine's clock; ` +
          `it is used as it is and the next token request waits ${delay / 1000} s. Check the clocks, the token's expires_in (and its unit) and its JWT exp`,
        { code: ErrorCode.INVALID_RESPONSE },
      ),
      servingCurrentToken: true,
    });
  }

  #unspend(refreshToken: string): void {
    const i = this.#spent.lastIndexOf(refreshToken);
    if (i >= 0) this.#spent.splice(i, 1);
  }

  /** Runs one request to the server, reported as a `token_request` event and on the tracing channel. */
  async #traced<T>(kind: TokenRequestEvent['kind'], send: (ctx: GrantContext) => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError();
    const started = performance.now();
    const channel = tokenRequestChannel();
    try {
      let result: T;
      if (channel.hasSubscribers) {
        const context: TokenRequestContext = {
          grant: this.grantType,
          kind,
          origin: undefined,
          path: undefined,
          outcome: undefined,
          errorCode: undefined,
        };
        const ctx: GrantContext = { transport: this.#transport, secrets: this.#secrets, trace: context };
        // The traced function resolves to nothing: the channel's `result` must never be a TokenSet.
        let value: T | undefined;
        await channel.tracePromise(async () => {
          try {
            value = await send(ctx);
            context.outcome = 'success';
          } catch (error) {
            context.outcome = 'error';
            context.errorCode = errorCodeOf(error);
            throw error;
          }
        }, context);
        result = value as T;
      } else {
        result = await send({ transport: this.#transport, secrets: this.#secrets });
      }
      this.#emitRequest(kind, started);
      return result;
    } catch (error) {
      this.#emitRequest(kind, started, error);
      throw error;
    }
  }

  #emitRequest(kind: TokenRequestEvent['kind'], started: number, error?: unknown): void {
    if (this.listenerCount('token_request') === 0) return;
    this.emit('token_request', {
      grant: this.grantType,
      kind,
      durationMs: performance.now() - started,
      outcome: error === undefined ? 'success' : 'error',
      errorCode: error === undefined ? undefined : errorCodeOf(error),
    });
  }

  #accept(tokenSet: TokenSet, source: TokenSource): void {
    this.#setCurrent(tokenSet);
    for (const t of [tokenSet.accessToken, tokenSet.refreshToken]) {
      if (t !== undefined && !this.#recentTokens.includes(t)) this.#recentTokens.push(t);
    }
    this.#recentTokens.splice(0, Math.max(0, this.#recentTokens.length - REMEMBERED_TOKENS));
    this.#secrets = new SecretSet().merge(this.#grant.secrets).add(...this.#recentTokens);
    this.emit('token', { grant: this.grantType, source, tokenSet });
  }

  #setCurrent(tokenSet: TokenSet): void {
    this.#current = tokenSet;
    const { expiresAt, issuedAt } = tokenSet;
    if (expiresAt === undefined) {
      this.#expiresAt = Infinity;
      this.#refreshAt = Infinity;
    } else {
      // Refresh `skew` before expiry, but never in the first half of a short-lived token's life.
      const skew = Math.min(this.#skewMs, Math.max(0, (expiresAt - issuedAt) / 2));
      this.#expiresAt = expiresAt;
      this.#refreshAt = expiresAt - skew;
    }
  }

  #isNewer(stored: TokenSet): boolean {
    const current = this.#current;
    if (current === undefined) return true;
    if (stored.issuedAt !== current.issuedAt) return stored.issuedAt > current.issuedAt;
    // Same generation: take the store's view (another process invalidated it or spent its refresh token).
    return (
      stored.accessToken === current.accessToken &&
      (stored.expiresAt !== current.expiresAt || stored.refreshToken !== current.refreshToken)
    );
  }

  /**
   * The store's entry, validated: a value of the wrong shape (another version, a bug, a stray key)
   * is reported as a store_error, deleted, and read as a miss.
   */
  async #read(): Promise<StoreEntry | undefined> {
    let value: unknown;
    try {
      value = await this.#bounded('get', this.#transport.timeoutMs, () => this.#store.get(this.#key));
    } catch (error) {
      this.#storeError('get', error);
      return undefined;
    }
    // Some stores answer a missing key with null.
    if (value === undefined || value === null) return undefined;
    let tokenSet: TokenSet;
    try {
      tokenSet = TokenSet.fromStored(value);
    } catch (error) {
      this.emit('store_error', { operation: 'get', error });
      try {
        await this.#bounded('delete', this.#transport.timeoutMs, () => this.#store.delete(this.#key));
      } catch (deleteError) {
        this.#storeError('delete', deleteError);
      }
      return undefined;
    }
    const claim = (value as StoredTokenSet).refreshClaim ?? undefined;
    const live = claim !== undefined && Date.now() < claim.expiresAt;
    return { tokenSet, claim: live ? claim : undefined };
  }

  /** Writes the current set; `keepUntil` keeps it at least that long (the record of a spent refresh token). */
  async #write(tokenSet: TokenSet, keepUntil = 0): Promise<void> {
    const now = Date.now();
    const lifetime = tokenSet.canRefresh(now) ? (tokenSet.refreshExpiresAt ?? Infinity) : (tokenSet.expiresAt ?? Infinity);
    const until = Math.max(lifetime, keepUntil);
    const operation = until <= now ? 'delete' : 'set';
    try {
      await this.#bounded(operation, this.#transport.timeoutMs, () =>
        operation === 'delete' ? this.#store.delete(this.#key) : this.#store.set(this.#key, tokenSet.toStored(), until - now),
      );
    } catch (error) {
      this.#storeError(operation, error);
    }
  }
}

// Not unref'd: a caller awaits the token, and the claim's expiry bounds the wait.
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error's string `code`, or `'unknown'`: what events and traces show of an error. */
function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}

function closedError(cause?: unknown): ProdoAuthError {
  return new ProdoAuthError('The token client was closed', { code: ErrorCode.CLOSED, cause });
}

/**
 * Creates a token client for one grant.
 *
 * @example
 * const client = createTokenClient({
 *   grant: clientCredentialsGrant({ tokenUrl, clientId: 'svc', clientSecret: process.env.SECRET! }),
 *   apiUrl: 'https://api.example.com',
 * });
 * const res = await client.fetch('/v1/things');
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  return new DefaultTokenClient(options);
}

/**
 * Many clients of one configuration, each with its own store key (the login flow's, one per
 * session): the options are checked once, here, all of them share one transport, and each client
 * costs only its own state. Internal to core (not exported from the package).
 *
 * @throws ConfigError as createTokenClient does
 */
export function tokenClientFactory(options: TokenClientOptions): TokenClientFactory {
  const parsed = parseTokenClientOptions(options);
  // One transport for every client: one connection pool, and nothing per client to allocate or close.
  const shared = { transport: transportOf(parsed) };
  return { transport: shared.transport, create: (storeKey) => new DefaultTokenClient({ ...parsed, storeKey }, shared) };
}

/** What {@link tokenClientFactory} returns. */
export interface TokenClientFactory {
  /** The clients' shared transport: its owner closes it (a client's close() does not). */
  readonly transport: Transport;
  create(storeKey: string): TokenClient;
}

const transportOf = (o: TokenClientOptions): Transport =>
  new Transport({ timeoutMs: o.timeoutMs, dispatcher: o.dispatcher, maxResponseBytes: o.maxResponseBytes, retry: o.retry });
