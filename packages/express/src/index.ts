/**
 * `@prodo-auth/express`: `app.use(prodoAuth())`. A translator only: every decision (sessions,
 * state and PKCE, refresh, error answers) is made by `@prodo-auth/core/adapter`; this file turns
 * an Express request into a PlainRequest and writes the FlowResult out.
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProdoAuthConfig } from '@prodo-auth/core';
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
import { ConfigError } from '@prodo-auth/core';

/** `req.prodoAuth`: the service's token client (service mode) or the signed-in user's access (user mode). */
export type RequestAuth = ServiceAuth | UserAuth;

declare global {
  // Express's own extension point (@types/express-serve-static-core), for Express 4 and 5 alike,
  // and no import of a module the user may not have. Only methods and plain types here: a
  // program that loads both this package's .d.mts and .d.cts (a mix of .mts and .cts files)
  // merges the two declarations, which it can for methods (overloads) but not for a property
  // typed with core's ESM and CJS copies of one interface.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `app.use(prodoAuth())` on every request that passes through it. */
      prodoAuth: ProdoAuth;
    }
    /** `req.prodoAuth`; its exact type is `RequestAuth` (service mode adds `client`). */
    interface ProdoAuth {
      /** The access token: the service's, or the signed-in user's (rejects with ReauthenticationRequiredError when nobody is). */
      getAccessToken(): Promise<string>;
      /** `fetch` to the API with the token added; on a 401 a new token and one retry. */
      fetch(...args: Parameters<ServiceAuth['fetch']>): ReturnType<ServiceAuth['fetch']>;
      /** User mode: someone is signed in. Undefined in service mode. */
      readonly isAuthenticated?: boolean;
    }
  }
}

/** The part of Express's request the adapter reads: typed by shape, so express stays a peer. */
export interface ExpressRequestLike extends IncomingMessage {
  readonly originalUrl: string;
  readonly secure: boolean;
  prodoAuth?: Express.ProdoAuth;
}
type Next = (error?: unknown) => void;
/** An Express middleware, as `app.use()` takes it. */
export type Middleware = (req: ExpressRequestLike, res: ServerResponse, next: Next) => void;
/** What `prodoAuth()` returns: the middleware, and `close()` for a graceful shutdown. */
export type ProdoAuthMiddleware = Middleware & {
  /** Closes the token client(s) and the shared connection pool (timers are unref()ed either way). */
  close(): Promise<void>;
};
/** An Express error middleware (four parameters). */
export type ErrorMiddleware = (error: unknown, req: ExpressRequestLike, res: ServerResponse, next: Next) => void;

// Where prodoAuth() leaves the flow for requireLogin(); shared by duplicate installs.
const FLOW: unique symbol = Symbol.for('@prodo-auth/express.flow') as never;
type WithFlow = ExpressRequestLike & { [FLOW]?: LoginFlow };

const toPlain = (req: ExpressRequestLike): PlainRequest => ({
  method: req.method ?? 'GET',
  url: req.originalUrl,
  headers: req.headers,
  secure: req.secure,
});

function appendCookies(res: ServerResponse, cookies: FlowResult['cookies']): void {
  if (cookies.length === 0) return;
  const set = res.getHeader('set-cookie');
  const before = set === undefined ? [] : Array.isArray(set) ? set : [String(set)];
  res.setHeader('set-cookie', [...before, ...cookies.map((c) => c.header)]);
}

function send(res: ServerResponse, result: Exclude<FlowResult, { kind: 'continue' }>): void {
  appendCookies(res, result.cookies);
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  if (result.kind === 'redirect') {
    res.setHeader('location', result.location);
    res.end();
    return;
  }
  res.end(result.body);
}

/**
 * The middleware: sets `req.prodoAuth` on every request and, in user mode, answers the login
 * routes (`GET {mountPath}/login`, `GET {mountPath}/callback`, `POST {mountPath}/logout`).
 *
 * @param options - the options of `createProdoAuth` (a preset's output plus `redirectUri`,
 *   `sessionSecret`, `mountPath`...); omitted, `configFromEnv()` reads `PRODO_AUTH_*`
 * @throws ConfigError naming every bad or missing setting, here and not on the first request
 * @example
 * app.use(prodoAuth());
 * app.get('/things', async (req, res) => res.json(await (await req.prodoAuth.fetch('/things')).json()));
 */
export function prodoAuth(options?: ProdoAuthOptions | ProdoAuthConfig): ProdoAuthMiddleware {
  const built = createProdoAuth(options);
  const close = (): Promise<void> => built.close();
  if (built.mode === 'service') {
    // One object for every request: a warm token means no I/O and nothing allocated here.
    const { auth } = built;
    const service: Middleware = (req, _res, next) => {
      req.prodoAuth = auth;
      next();
    };
    return Object.assign(service, { close });
  }
  const { flow } = built;
  const user: Middleware = (req, res, next) => {
    flow.handle(toPlain(req)).then((result) => {
      if (result.kind !== 'continue') return send(res, result);
      appendCookies(res, result.cookies);
      req.prodoAuth = result.auth;
      (req as WithFlow)[FLOW] = flow;
      next();
    }, next);
  };
  return Object.assign(user, { close });
}

/**
 * Lets signed-in users through; sends a browser (`Accept: text/html`) to the login with
 * `returnTo` set to this page, and answers anything else 401 `{ "error": "login_required" }`.
 * Needs `app.use(prodoAuth())` in user mode before it.
 *
 * @example
 * app.get('/profile', requireLogin(), async (req, res) => res.json(await (await req.prodoAuth.fetch('/me')).json()));
 */
export function requireLogin(): Middleware {
  return (req, res, next) => {
    const flow = (req as WithFlow)[FLOW];
    if (flow === undefined || req.prodoAuth === undefined) {
      return next(new ConfigError('requireLogin() needs app.use(prodoAuth()) in user mode (an authorization code grant) before it'));
    }
    const denied = flow.requireLogin(toPlain(req), req.prodoAuth as UserAuth);
    if (denied === undefined) return next();
    send(res, denied as Exclude<FlowResult, { kind: 'continue' }>);
  };
}

/**
 * Answers the prodo-auth errors a route lets through (`next(error)`): 401 `login_required`, 502
 * `upstream_auth_unavailable` when the token endpoint is down, as JSON or a page. Any other
 * error goes on to your own error handler. Nothing from the token endpoint reaches the client.
 *
 * @example
 * app.use(prodoAuthErrorHandler());
 */
export function prodoAuthErrorHandler(): ErrorMiddleware {
  return (error, req, res, next) => {
    if (!isProdoAuthError(error) || res.headersSent) return next(error);
    send(res, errorResult(error, toPlain(req)) as Exclude<FlowResult, { kind: 'continue' }>);
  };
}
