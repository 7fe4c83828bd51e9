/**
 * Token requests on Node's `diagnostics_channel`, as undici and the database drivers publish
 * theirs: a `TracingChannel` for every request to the authorization server, and a plain channel
 * for every token served, from the cache or after a request. Publishing costs nothing without
 * subscribers (one `hasSubscribers` read), and nothing published carries a token, a secret or a
 * query string. `@prodo-auth/opentelemetry` turns them into spans and metrics; any other listener
 * can subscribe by name.
 *
 * @see https://nodejs.org/api/diagnostics_channel.html#class-tracingchannel
 */
import type * as DiagnosticsChannelModule from 'node:diagnostics_channel';
import type { Channel, TracingChannel } from 'node:diagnostics_channel';

/** The name of the TracingChannel of token requests (`tracing:prodo-auth:token-request:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`). */
export const TOKEN_REQUEST_CHANNEL = 'prodo-auth:token-request';
/** The name of the channel told of every token a client hands out, with whether the cache had it. */
export const TOKEN_SERVED_CHANNEL = 'prodo-auth:token-served';

/**
 * The context object of a token request on {@link TOKEN_REQUEST_CHANNEL}: the same object
 * through `start`, `end`, `asyncStart`, `asyncEnd` and `error`. `outcome` and `errorCode` are set
 * once the request settles; `error` (set by the channel on failure) is the typed, redacted error
 * the caller gets.
 */
export interface TokenRequestContext {
  /** The grant's name, e.g. `client_credentials`. */
  readonly grant: string;
  /** `obtain` (primary credentials), `refresh`, `exchange` (an authorization code), `revoke` (RFC 7009). */
  readonly kind: 'obtain' | 'refresh' | 'exchange' | 'revoke';
  /** The endpoint's origin, once the grant has sent its request (undefined if it never did). */
  origin: string | undefined;
  /** The endpoint's path, never its query string. */
  path: string | undefined;
  outcome: 'success' | 'error' | undefined;
  /** The error's `code` (an {@link ErrorCode}), or `'unknown'` for an error without one. */
  errorCode: string | undefined;
  error?: unknown;
}

/** A message on {@link TOKEN_SERVED_CHANNEL}. */
export interface TokenServedMessage {
  readonly grant: string;
  /** `cache`: a cached token, no request; `server`: the caller waited for a token request. */
  readonly source: 'cache' | 'server';
}

type DiagnosticsChannel = typeof DiagnosticsChannelModule;

let dc: DiagnosticsChannel | undefined;
let requestChannel: TracingChannel<unknown, TokenRequestContext> | undefined;
let servedChannel: Channel | undefined;

// node:diagnostics_channel is loaded by Node itself at start; taking it is a lookup.
const diagnostics = (): DiagnosticsChannel => (dc ??= process.getBuiltinModule('node:diagnostics_channel'));

/** The TracingChannel of token requests. @internal */
export function tokenRequestChannel(): TracingChannel<unknown, TokenRequestContext> {
  return (requestChannel ??= diagnostics().tracingChannel<unknown, TokenRequestContext>(TOKEN_REQUEST_CHANNEL));
}

/** The channel of tokens served. @internal */
export function tokenServedChannel(): Channel {
  return (servedChannel ??= diagnostics().channel(TOKEN_SERVED_CHANNEL));
}
