/**
 * `@prodo-auth/core/adapter`: everything a framework adapter (Express, Koa, Nest, yours) needs,
 * and nothing an application does. An adapter converts its request to a {@link PlainRequest},
 * calls `flow.handle()`, and writes the {@link FlowResult} out; every decision is made here.
 *
 * @example
 * const auth = createProdoAuth(options);
 * // user mode, per request:
 * const result = await auth.flow.handle({ method: req.method, url: req.url, headers: req.headers, secure: false });
 * @packageDocumentation
 */
export { createProdoAuth, type ProdoAuth, type ProdoAuthOptions, type ServiceAuth } from './login/prodo-auth.js';
export type { LoginFlow } from './login/flow.js';
export {
  errorResponse,
  errorResult,
  wantsHtml,
  type FlowErrorCode,
  type FlowResult,
  type PlainRequest,
  type UserAuth,
} from './login/results.js';
export type { SetCookie } from './login/cookies.js';
export { safeReturnTo } from './login/return-to.js';
export { memorySessionStore, type MemorySessionStoreOptions, type SessionRecord, type SessionStore } from './login/session-store.js';
export { httpStatusForError, isProdoAuthError, ReauthenticationRequiredError } from './errors.js';
export { allowedOrigins, type OriginMatcher, type OriginOptions } from './outbound/origins.js';
export { isReplayable, isTokenRejection } from './outbound/rejection.js';
