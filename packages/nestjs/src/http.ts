/**
 * The request side: the middleware that runs core's login flow, the guard and the parameter
 * decorator that read its result, and the filter that writes core's answers. Translation only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Catch, HttpException, Inject, Injectable, createParamDecorator, type ArgumentsHost, type CanActivate, type ExceptionFilter, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ConfigError, ProdoAuthError } from '@prodo-auth/core';
import { errorResult, type FlowResult, type LoginFlow, type PlainRequest, type ServiceAuth, type UserAuth } from '@prodo-auth/core/adapter';

/** What `@ProdoAuth()` gives a handler: the service's token client, or the signed-in user's access. */
export type RequestAuth = ServiceAuth | UserAuth;
/** An answer of the flow other than `continue`: written out as it is. */
export type FlowAnswer = Exclude<FlowResult, { kind: 'continue' }>;

interface Entry {
  readonly auth: RequestAuth;
  readonly flow?: LoginFlow;
}
type RawRequest = IncomingMessage & { originalUrl?: string; secure?: boolean; [STATE]?: Readonly<Record<string, Entry>> };
/** A middleware as Nest applies it: Express's request and response, or Fastify's raw ones. */
export type RawMiddleware = (req: RawRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

// Where the middleware leaves each client's auth; shared by duplicate installs.
const STATE: unique symbol = Symbol.for('@prodo-auth/nestjs.auth') as never;
/**
 * Set on globalThis once any handler takes `@ProdoAuth()` (decorators run when a class is
 * defined, before the app starts): until then a service-mode client needs no middleware, and its
 * requests pay for none. Global, so that an ESM and a CJS copy of this package agree.
 */
const USED: unique symbol = Symbol.for('@prodo-auth/nestjs.parameter-used') as never;

/** The Node request under Nest's: Fastify's `request.raw`, or Express's request itself. */
const rawOf = (req: { raw?: RawRequest } & RawRequest): RawRequest => req.raw ?? req;

const toPlain = (req: RawRequest): PlainRequest => ({
  method: req.method ?? 'GET',
  url: req.originalUrl ?? req.url ?? '/',
  headers: req.headers,
  secure: req.secure ?? (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true,
});

function appendCookies(res: ServerResponse, cookies: FlowResult['cookies']): void {
  if (cookies.length === 0) return;
  const set = res.getHeader('set-cookie');
  const before = set === undefined ? [] : Array.isArray(set) ? set : [String(set)];
  res.setHeader('set-cookie', [...before, ...cookies.map((c) => c.header)]);
}

/**
 * The middleware of one client: in service mode it only hands `@ProdoAuth()` its auth (and is
 * left out when no handler takes it); in user mode
 * it answers the flow's routes (`GET {mountPath}/login`, `GET {mountPath}/callback`, `POST
 * {mountPath}/logout`) and resumes the session of every other request.
 */
export function authMiddleware(name: string, auth: { mode: 'service'; auth: ServiceAuth } | { mode: 'user'; flow: LoginFlow }): RawMiddleware | undefined {
  if (auth.mode === 'service') {
    if ((globalThis as { [USED]?: true })[USED] !== true) return undefined;
    // One frozen record for every request of an app with one client: nothing allocated, no I/O.
    const entry: Entry = Object.freeze({ auth: auth.auth });
    const only = Object.freeze({ [name]: entry });
    return (req, _res, next) => {
      req[STATE] = req[STATE] === undefined ? only : { ...req[STATE], [name]: entry };
      next();
    };
  }
  const { flow } = auth;
  return (req, res, next) => {
    flow.handle(toPlain(req)).then((result) => {
      if (result.kind !== 'continue') {
        setHeaders(res, result);
        res.statusCode = result.status;
        res.end(result.kind === 'respond' ? result.body : undefined);
        return;
      }
      appendCookies(res, result.cookies);
      req[STATE] = { ...req[STATE], [name]: { auth: result.auth, flow } };
      next();
    }, next);
  };
}

function entryOf(req: RawRequest, name: string | undefined): Entry {
  const entries = req[STATE] ?? {};
  const entry = name === undefined ? (entries.default ?? Object.values(entries)[0]) : Object.hasOwn(entries, name) ? entries[name] : undefined;
  if (entry === undefined) {
    throw new ConfigError(`@ProdoAuth(${name === undefined ? '' : `'${name}'`}) found no ProdoAuthModule client${name === undefined ? '' : ` named '${name}'`} on this request: import ProdoAuthModule.forRoot() in the app`);
  }
  return entry;
}

/**
 * A handler parameter: the auth of the default client (or of the client `name`), the same object
 * `req.prodoAuth` is in the Express adapter.
 *
 * @example
 * `@Get('profile') @UseGuards(ProdoAuthGuard) profile(@ProdoAuth() auth: UserAuth) { return auth.fetch('/me'); }`
 */
export const ProdoAuth = (name?: string): ParameterDecorator => {
  (globalThis as { [USED]?: true })[USED] = true;
  return parameter(name);
};
const parameter = createParamDecorator((name: string | undefined, context: ExecutionContext) => entryOf(rawOf(context.switchToHttp().getRequest()), name).auth);

/**
 * What the guard throws to answer with the flow's result; ProdoAuthExceptionFilter writes it. An
 * HttpException whose headers (Location, cookies) are already on the response, so that an app's
 * own catch-all filter that answers HttpExceptions by their status still redirects or says 401.
 */
export class ProdoAuthFlowException extends HttpException {
  constructor(readonly result: FlowAnswer) {
    super(result.kind === 'respond' && result.headers['content-type'] === 'application/json' ? (JSON.parse(result.body) as object) : `prodo-auth answers ${result.status}`, result.status);
  }
}

/** Sets the result's status line headers on the Node response, for whichever filter answers. */
function setHeaders(res: ServerResponse, result: FlowAnswer): void {
  appendCookies(res, result.cookies);
  for (const [header, value] of Object.entries(result.headers)) res.setHeader(header, value);
  if (result.kind === 'redirect') res.setHeader('location', result.location);
}

/**
 * Lets signed-in users through; sends a browser (`Accept: text/html`) to the login with
 * `returnTo` set to this page, and answers anything else 401 `{ "error": "login_required" }`.
 * Needs a user-mode client (the default one, else the only one): `@UseGuards(ProdoAuthGuard)`.
 */
export class ProdoAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = rawOf(context.switchToHttp().getRequest());
    const entries = req[STATE] ?? {};
    const entry = entries.default?.flow !== undefined ? entries.default : Object.values(entries).find((e) => e.flow !== undefined);
    if (entry?.flow === undefined) {
      throw new ConfigError('ProdoAuthGuard needs ProdoAuthModule.forRoot() in user mode (an authorization code grant)');
    }
    const denied = entry.flow.requireLogin(toPlain(req), entry.auth as UserAuth);
    if (denied === undefined) return true;
    const res = context.switchToHttp().getResponse<{ raw?: ServerResponse } & ServerResponse>();
    setHeaders(res.raw ?? res, denied as FlowAnswer);
    throw new ProdoAuthFlowException(denied as FlowAnswer);
  }
}
Injectable()(ProdoAuthGuard);

/**
 * Answers ProdoAuthGuard's denials, and the prodo-auth errors a handler lets through: 401
 * `login_required`, 502 `upstream_auth_unavailable` when the token endpoint is down, as JSON or
 * a page. Registered by ProdoAuthModule (APP_FILTER); nothing from the token endpoint reaches the client.
 */
export class ProdoAuthExceptionFilter implements ExceptionFilter {
  constructor(private readonly host: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<{ raw?: ServerResponse } & ServerResponse>();
    const adapter = this.host.httpAdapter;
    const raw = res.raw ?? res;
    // A handler that failed mid-stream: nothing else can be sent, only the end.
    if (raw.headersSent) return void raw.end();
    // The guard's answer has its headers on the response already; an error's gets them here.
    const denied = exception instanceof ProdoAuthFlowException;
    const result = denied ? exception.result : (errorResult(exception, toPlain(rawOf(http.getRequest()))) as FlowAnswer);
    if (!denied) setHeaders(raw, result);
    if (result.kind === 'redirect') adapter.redirect(res, result.status, result.location);
    else adapter.reply(res, result.body, result.status);
  }
}
Catch(ProdoAuthFlowException, ProdoAuthError)(ProdoAuthExceptionFilter);
Inject(HttpAdapterHost)(ProdoAuthExceptionFilter, undefined, 0);
