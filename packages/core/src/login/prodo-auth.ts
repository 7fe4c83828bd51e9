/** `createProdoAuth()`: what `app.use(prodoAuth())` builds, for every adapter. */
import type { RequestInit, Response } from 'undici';
import { configFromEnv, type ProdoAuthConfig } from '../config.js';
import { ConfigError, ErrorCode, isProdoAuthError, type ConfigIssue } from '../errors.js';
import type { AuthorizationCodeGrant } from '../grants/authorization-code.js';
import { memoryStore } from '../store.js';
import { createTokenClient, type TokenClient, type TokenClientOptions } from '../token-client.js';
import { parseTokenClientOptions } from '../token-client-options.js';
import { absoluteUrl, ignored, number, oneOf, optional, parseOptions, shape, type Check } from '../validation.js';
import { createLoginFlow, type LoginFlow } from './flow.js';
import { memorySessionStore, type SessionStore } from './session-store.js';

/** The default token store's size in user mode: memorySessionStore()'s default size. */
const USER_TOKEN_ENTRIES = 100_000;

/** Options of `createProdoAuth` (and of `prodoAuth()` in every adapter). */
export interface ProdoAuthOptions extends TokenClientOptions {
  /**
   * `user` for the browser login (authorization code grant), `service` for every other grant.
   * @default 'user' for a grant with createAuthorizationRequest, else 'service'
   */
  mode?: 'service' | 'user' | undefined;
  /** The app's callback URL, registered with the authorization server; its path must end with `{mountPath}/callback`. https here makes every cookie Secure and `__Host-` prefixed, also behind a proxy. */
  redirectUri?: string | undefined;
  /**
   * User mode: signs the session cookie, at least 32 characters each. A list rotates them: the
   * first signs, any of them verifies.
   */
  sessionSecret?: string | readonly string[] | undefined;
  /** A shared Redis: core has no Redis client, so pass `store` and `sessionStore` from `@prodo-auth/redis` with it. */
  redisUrl?: string | undefined;
  /**
   * User mode: where the routes `login`, `callback` and `logout` live.
   * @default '/auth'
   */
  mountPath?: string | undefined;
  /**
   * User mode: where sessions and logins in progress are kept.
   * @default memorySessionStore()
   */
  sessionStore?: SessionStore | undefined;
  /**
   * User mode: a session unused this long ends (rolling).
   * @default 86400 (1 day)
   */
  idleTimeoutSeconds?: number | undefined;
  /**
   * User mode: a session ends this long after sign-in, however much it is used.
   * @default 604800 (7 days)
   */
  absoluteTimeoutSeconds?: number | undefined;
  /**
   * User mode: how long a started login may take to come back to the callback.
   * @default 600 (10 minutes)
   */
  loginTimeoutSeconds?: number | undefined;
  /**
   * User mode: most sessions with a token client in memory (about 1.4 kB each beside what the
   * stores keep); beyond it the least recently used one is dropped, and its tokens stay in the
   * store, so its next request makes a new client from them.
   * @default 10000
   */
  maxLiveSessions?: number | undefined;
}

/** Service mode's `req.prodoAuth`: one object, created once, reused by every request. */
export interface ServiceAuth {
  getAccessToken(): Promise<string>;
  /** `fetch` to the API with the token added; on a 401 it gets a new token and retries once. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  readonly client: TokenClient;
}

/** What an adapter builds on: a token client (service mode) or the login flow (user mode). */
export type ProdoAuth =
  | { readonly mode: 'service'; readonly client: TokenClient; readonly auth: ServiceAuth; close(): Promise<void> }
  | { readonly mode: 'user'; readonly flow: LoginFlow; close(): Promise<void> };

const MIN_SECRET = 32;

const sessionSecret: Check<readonly string[] | undefined> = (value, report) => {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string')) {
    report('must be a string or a non-empty list of strings');
    return undefined;
  }
  if ((list as string[]).some((s) => s.length < MIN_SECRET)) report(`must be at least ${MIN_SECRET} characters (each, in a list)`);
  return list as string[];
};

const mountPath: Check<string | undefined> = (value, report) => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(\/[\w.~-]+)+$/.test(value)) report("must be a path such as '/auth' (no trailing slash, query or special characters)");
  return value as string;
};

// The token client's own options are checked by parseTokenClientOptions; here they only pass.
const tokenClientKeys = [
  'grant', 'apiUrl', 'apiHeaders', 'store', 'storeKey', 'refreshSkewSeconds', 'timeoutMs', 'dispatcher',
  'maxResponseBytes', 'retry', 'dangerouslyAllowInsecureHttp',
] as const;

const schema = {
  ...Object.fromEntries(tokenClientKeys.map((k) => [k, ignored])),
  mode: optional(oneOf(['service', 'user'] as const)),
  redirectUri: optional(absoluteUrl),
  sessionSecret,
  redisUrl: optional(shape<string>((v) => typeof v === 'string', 'must be a redis:// URL')),
  mountPath,
  sessionStore: optional(
    shape<SessionStore>(
      (s) => typeof s === 'object' && s !== null && ['get', 'set', 'take', 'delete'].every((m) => typeof (s as Record<string, unknown>)[m] === 'function'),
      'must implement get, set, take and delete',
    ),
  ),
  idleTimeoutSeconds: optional(number({ positive: true })),
  absoluteTimeoutSeconds: optional(number({ positive: true })),
  loginTimeoutSeconds: optional(number({ positive: true })),
  maxLiveSessions: optional(number({ integer: true, positive: true })),
};

/** The ConfigError issues of `fn`, or none. */
function issuesOf(fn: () => void): readonly ConfigIssue[] {
  try {
    fn();
    return [];
  } catch (error) {
    if (isProdoAuthError(error) && error.code === ErrorCode.CONFIG) return (error as ConfigError).issues ?? [];
    throw error;
  }
}

const isCodeGrant = (grant: unknown): grant is AuthorizationCodeGrant =>
  typeof (grant as Partial<AuthorizationCodeGrant> | undefined)?.createAuthorizationRequest === 'function' &&
  typeof (grant as Partial<AuthorizationCodeGrant>).exchangeCode === 'function';

/**
 * Builds what every framework adapter's `prodoAuth()` runs: in service mode one TokenClient and
 * the `req.prodoAuth` object, in user mode the login flow and its sessions. Checks everything at
 * once: one ConfigError names every problem.
 *
 * @param options - createTokenClient options plus the adapter's; omitted, `configFromEnv()`
 * @example
 * const auth = createProdoAuth({ ...procurios.authorizationCode({ ... }), sessionSecret: process.env.SESSION_SECRET });
 * if (auth.mode === 'user') server.on('request', async (req, res) => write(res, await auth.flow.handle(toPlain(req))));
 */
export function createProdoAuth(options?: ProdoAuthOptions | ProdoAuthConfig): ProdoAuth {
  const o = (options ?? configFromEnv()) as ProdoAuthOptions;
  const issues: ConfigIssue[] = [];
  let parsed: ReturnType<typeof parseOptions<typeof schema>> | undefined;
  // The token client's options are checked by the token client's own parser, once.
  issues.push(...issuesOf(() => void (parsed = parseOptions(schema, o, 'createProdoAuth'))));
  const clientOptions: Record<string, unknown> = {};
  for (const key of tokenClientKeys) if (o?.[key] !== undefined) clientOptions[key] = o[key];
  issues.push(...issuesOf(() => void parseTokenClientOptions(clientOptions as unknown as TokenClientOptions)));
  const grant = (o as { grant?: unknown } | undefined)?.grant;
  // The checks below read the raw options, so that one ConfigError names every problem even
  // when a field above was malformed.
  const mode = o?.mode === 'user' || o?.mode === 'service' ? o.mode : isCodeGrant(grant) ? 'user' : 'service';
  const report = (path: string, message: string): void => void issues.push({ path, message });
  if (grant !== undefined) {
    if (mode === 'user' && !isCodeGrant(grant)) report('grant', "must be an authorization code grant in user mode (mode: 'user')");
    if (mode === 'service' && isCodeGrant(grant)) report('mode', "must be 'user' for the authorization code grant: it needs the browser login");
  }
  if (o?.redisUrl !== undefined && o.store === undefined) {
    report('redisUrl', 'needs store (and in user mode sessionStore) from @prodo-auth/redis: core has no Redis client');
  }
  if (mode === 'user' && o !== undefined) {
    if (o.sessionSecret === undefined) {
      report('sessionSecret', `is required in user mode: at least ${MIN_SECRET} random characters (PRODO_AUTH_SESSION_SECRET)`);
    }
    if (o.storeKey !== undefined) report('storeKey', 'is per session in user mode: leave it out');
    const mount = typeof o.mountPath === 'string' ? o.mountPath : '/auth';
    const redirect = typeof o.redirectUri === 'string' && URL.canParse(o.redirectUri) ? new URL(o.redirectUri) : undefined;
    if (redirect !== undefined && !redirect.pathname.endsWith(`${mount}/callback`)) {
      report('redirectUri', `must end with ${mount}/callback, where the callback route is (or set mountPath)`);
    }
    const idle = o.idleTimeoutSeconds ?? 86_400;
    const absolute = o.absoluteTimeoutSeconds ?? 604_800;
    if (typeof idle === 'number' && typeof absolute === 'number' && idle > absolute) {
      report('idleTimeoutSeconds', 'must not exceed absoluteTimeoutSeconds');
    }
  }
  if (issues.length > 0 || parsed === undefined) throw new ConfigError('Invalid prodoAuth options', issues);

  // In user mode one entry per signed-in session: as many as the session store keeps, so a
  // sign-in never silently drops another user's tokens.
  const store = o.store ?? (mode === 'service' ? memoryStore() : memoryStore({ maxEntries: USER_TOKEN_ENTRIES }));
  if (mode === 'service') {
    const client = createTokenClient({ ...(clientOptions as unknown as TokenClientOptions), store });
    const auth: ServiceAuth = Object.freeze({
      getAccessToken: () => client.getAccessToken(),
      fetch: (input: string | URL, init?: RequestInit) => client.fetch(input, init),
      client,
    });
    return Object.freeze({ mode: 'service' as const, client, auth, close: () => client.close() });
  }
  const flow = createLoginFlow({
    client: clientOptions as unknown as TokenClientOptions & { grant: AuthorizationCodeGrant },
    store,
    sessionStore: parsed.sessionStore ?? memorySessionStore(),
    secrets: parsed.sessionSecret!,
    mountPath: parsed.mountPath ?? '/auth',
    https: parsed.redirectUri !== undefined && new URL(parsed.redirectUri).protocol === 'https:',
    idleMs: (parsed.idleTimeoutSeconds ?? 86_400) * 1000,
    absoluteMs: (parsed.absoluteTimeoutSeconds ?? 604_800) * 1000,
    loginMs: (parsed.loginTimeoutSeconds ?? 600) * 1000,
    maxLiveSessions: parsed.maxLiveSessions ?? 10_000,
  });
  return Object.freeze({ mode: 'user' as const, flow, close: () => flow.close() });
}
