/**
 * `@prodo-auth/koa`: `app.use(prodoAuth())`. A translator only: every decision (sessions, state
 * and PKCE, refresh, error answers) is made by `@prodo-auth/core/adapter`; this file turns a Koa
 * context into a PlainRequest and writes the FlowResult out.
 * @packageDocumentation
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError, type ProdoAuthConfig } from '@prodo-auth/core';
import {
  createProdoAuth,
  errorResult,
  isProdoAuthError,
  type FlowResult,
  type LoginFlow,
  type PlainRequest,
  type ProdoAuthOptions,
  type ServiceAuth,
  type UserAuth,
} from '@prodo-auth/core/adapter';

/** `ctx.state.prodoAuth`: the service's token client (service mode) or the signed-in user's access (user mode). */
export type RequestAuth = ServiceAuth | UserAuth;

/**
 * `ctx.state.prodoAuth` as Koa's `DefaultState` types it; its exact type is {@link RequestAuth}
 * (service mode adds `client`). Only methods and plain types: a program that loads both this
 * package's .d.mts and .d.cts (a mix of .mts and .cts files) declares the property twice, which
 * it can only when both types are identical, and core's ESM and CJS copies of TokenClient are not.
 */
export interface StateAuth {
  /** The access token: the service's, or the signed-in user's (rejects with ReauthenticationRequiredError when nobody is). */
  getAccessToken(): Promise<string>;
  /** `fetch` to the API with the token added; on a 401 a new token and one retry. */
  fetch(...args: Parameters<ServiceAuth['fetch']>): ReturnType<ServiceAuth['fetch']>;
  /** User mode: someone is signed in. Undefined in service mode. */
  readonly isAuthenticated?: boolean;
}

// Koa's own extension point, for Koa 2 and 3 alike (@types/koa). Koa ships no types: without
// @types/koa the module cannot be augmented (TS2665), and the @ts-ignore keeps that from being an
// error in a project that type-checks its dependencies (skipLibCheck: false). It is a doc comment
// because the declaration bundler keeps only those.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
/** @ts-ignore -- the augmentation applies where @types/koa is installed, and is a no-op elsewhere */
declare module 'koa' {
  interface DefaultState {
    /** Set by `app.use(prodoAuth())` on every request that passes through it. */
    prodoAuth: StateAuth;
  }
}

/** The part of Koa's context the adapter reads and writes: typed by shape, so koa stays a peer. */
export interface KoaContextLike {
  readonly method: string;
  readonly originalUrl: string;
  readonly headers: IncomingHttpHeaders;
  /** `https` as Koa sees it (behind a proxy: `app.proxy = true` makes `X-Forwarded-Proto` count). */
  readonly secure: boolean;
  readonly state: object;
  readonly headerSent: boolean;
  status: number;
  body: unknown;
  set(field: string, value: string | string[]): void;
  append(field: string, value: string | string[]): void;
}
/** A Koa middleware, as `app.use()` takes it. */
export type Middleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;
/** What `prodoAuth()` returns: the middleware, and `close()` for a graceful shutdown. */
export type ProdoAuthMiddleware = Middleware & {
  /** Closes the token client(s) and the shared connection pool (timers are unref()ed either way). */
  close(): Promise<void>;
};

// Where prodoAuth() leaves the flow for requireLogin(); shared by duplicate installs.
const FLOW: unique symbol = Symbol.for('@prodo-auth/koa.flow') as never;
type WithFlow = KoaContextLike & { [FLOW]?: LoginFlow };
type State = { prodoAuth?: RequestAuth };
type Answer = Exclude<FlowResult, { kind: 'continue' }>;

const toPlain = (ctx: KoaContextLike): PlainRequest => ({
  method: ctx.method,
  url: ctx.originalUrl,
  headers: ctx.headers,
  secure: ctx.secure,
});

function appendCookies(ctx: KoaContextLike, cookies: FlowResult['cookies']): void {
  if (cookies.length > 0) ctx.append('set-cookie', cookies.map((c) => c.header));
}

function send(ctx: KoaContextLike, result: Answer): void {
  appendCookies(ctx, result.cookies);
  for (const [name, value] of Object.entries(result.headers)) ctx.set(name, value);
  if (result.kind === 'redirect') {
    // Koa turns a null body into 204 unless the status is set after it; then it sends no body.
    ctx.body = null;
    ctx.status = result.status;
    ctx.set('location', result.location);
    return;
  }
  ctx.status = result.status;
  ctx.body = result.body;
}

/**
 * Runs the rest of the app and answers the prodo-auth errors it throws (401 `login_required`,
 * 502 `upstream_auth_unavailable`...) as core maps them; what core would answer with a 500 is
 * the app's bug and goes on to Koa's (or the app's) error handling, as does any other error.
 */
async function downstream(ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> {
  try {
    await next();
  } catch (error) {
    if (!isProdoAuthError(error) || ctx.headerSent) throw error;
    const answer = errorResult(error, toPlain(ctx)) as Answer;
    if (answer.status === 500) throw error;
    send(ctx, answer);
  }
}

/**
 * The middleware: sets `ctx.state.prodoAuth` on every request and, in user mode, answers the login
 * routes (`GET {mountPath}/login`, `GET {mountPath}/callback`, `POST {mountPath}/logout`). A
 * prodo-auth error thrown further down (the token endpoint down, nobody signed in) is answered
 * here, as JSON or a small page.
 *
 * @param options - the options of `createProdoAuth` (a preset's output plus `redirectUri`,
 *   `sessionSecret`, `mountPath`...); omitted, `configFromEnv()` reads `PRODO_AUTH_*`
 * @throws ConfigError naming every bad or missing setting, here and not on the first request
 * @example
 * app.use(prodoAuth());
 * app.use(async (ctx) => { ctx.body = await (await ctx.state.prodoAuth.fetch('/things')).json(); });
 */
export function prodoAuth(options?: ProdoAuthOptions | ProdoAuthConfig): ProdoAuthMiddleware {
  const built = createProdoAuth(options);
  const close = (): Promise<void> => built.close();
  if (built.mode === 'service') {
    // One object for every request: a warm token means no I/O and nothing allocated for it here.
    const { auth } = built;
    const service: Middleware = (ctx, next) => {
      (ctx.state as State).prodoAuth = auth;
      return downstream(ctx, next);
    };
    return Object.assign(service, { close });
  }
  const { flow } = built;
  const user: Middleware = async (ctx, next) => {
    const result = await flow.handle(toPlain(ctx));
    if (result.kind !== 'continue') return send(ctx, result);
    appendCookies(ctx, result.cookies);
    (ctx.state as State).prodoAuth = result.auth;
    (ctx as WithFlow)[FLOW] = flow;
    await downstream(ctx, next);
  };
  return Object.assign(user, { close });
}

/**
 * Lets signed-in users through; sends a browser (`Accept: text/html`) to the login with
 * `returnTo` set to this page, and answers anything else 401 `{ "error": "login_required" }`.
 * Needs `app.use(prodoAuth())` in user mode before it.
 *
 * @throws ConfigError when no `prodoAuth()` in user mode ran before it
 * @example
 * router.get('/profile', requireLogin(), async (ctx) => { ctx.body = await (await ctx.state.prodoAuth.fetch('/me')).json(); });
 */
export function requireLogin(): Middleware {
  return async (ctx, next) => {
    const flow = (ctx as WithFlow)[FLOW];
    const auth = (ctx.state as State).prodoAuth;
    if (flow === undefined || auth === undefined) {
      throw new ConfigError('requireLogin() needs app.use(prodoAuth()) in user mode (an authorization code grant) before it');
    }
    const denied = flow.requireLogin(toPlain(ctx), auth as UserAuth);
    if (denied === undefined) return void (await next());
    send(ctx, denied as Answer);
  };
}
