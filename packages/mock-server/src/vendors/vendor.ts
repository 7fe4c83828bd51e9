/** What every vendor simulation provides to the server, and the helpers they share. */
import { bearerToken, type MockReply, type MockRequest } from '../http.js';
import type { ResolvedOptions } from '../options.js';
import type { JwtSigner, TokenRecord, TokenRegistry } from '../tokens.js';

/** The grant of a token request, as `stats.byGrant` counts it. */
export type GrantLabel = 'password' | 'refresh_token' | 'authorization_code' | 'client_credentials' | 'other';
export const GRANT_LABELS: readonly GrantLabel[] = [
  'password',
  'refresh_token',
  'authorization_code',
  'client_credentials',
  'other',
];

export interface Route {
  readonly kind: 'token' | 'authorize' | 'api';
  /** For token requests: which grant the request asks for. */
  readonly grant?: (req: MockRequest) => GrantLabel;
  handle(req: MockRequest): MockReply | Promise<MockReply>;
}

export interface VendorContext {
  readonly options: ResolvedOptions;
  readonly tokens: TokenRegistry;
  readonly jwt: JwtSigner;
  /** The server's origin, `http://127.0.0.1:<port>`; known once it listens. */
  readonly baseUrl: () => string;
}

export interface VendorPaths {
  readonly token: string;
  readonly api: string;
  readonly refresh?: string;
  readonly authorize?: string;
}

export interface VendorSim<TCredentials> {
  readonly credentials: TCredentials;
  readonly paths: VendorPaths;
  /** The route for a request, or undefined for an unknown path. */
  route(method: string, path: string): Route | undefined;
  /** The answer to an unknown path, in the vendor's error shape. */
  notFound(req: MockRequest): MockReply;
  /** A live access token for the default user, as if taken from a browser session. */
  issueAccessToken(): Promise<string>;
  nextTwoFactorCode?: () => string;
}

/** Maps a form `grant_type` to a stats label. */
export function grantLabel(grantType: string | null): GrantLabel {
  switch (grantType) {
    case 'password':
    case 'refresh_token':
    case 'client_credentials':
      return grantType;
    case 'authorization_code':
    case 'code':
      return 'authorization_code';
    default:
      return 'other';
  }
}

export const formGrant = (req: MockRequest): GrantLabel => grantLabel(req.form.get('grant_type'));

export type BearerCheck =
  | { readonly ok: true; readonly record: TokenRecord }
  | { readonly ok: false; readonly reason: 'missing' | 'unknown' | 'expired' | 'revoked'; readonly token?: string };

/** Checks the request's Bearer token against the registry: only a live access token passes. */
export function checkBearer(tokens: TokenRegistry, req: MockRequest): BearerCheck {
  const token = bearerToken(req.headers);
  if (token === undefined) return { ok: false, reason: 'missing' };
  const check = tokens.check(token, 'access');
  switch (check.status) {
    case 'live':
      return { ok: true, record: check.record };
    case 'unknown':
      return { ok: false, reason: 'unknown', token };
    case 'expired':
      return { ok: false, reason: 'expired', token };
    default:
      return { ok: false, reason: 'revoked', token };
  }
}

/** The sample API's payload: what was asked, and on whose behalf. */
export function apiEcho(req: MockRequest, record: TokenRecord): Record<string, unknown> {
  return {
    method: req.method,
    path: req.path,
    subject: record.subject,
    client_id: record.clientId,
    scope: record.scope,
    ...(req.body !== '' ? { received: req.json ?? parseJsonOr(req.body) } : {}),
  };
}

// The doc's Procurios POST example sends a JSON body without a Content-Type; echo it as JSON anyway.
function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A path under a prefix: the prefix itself or anything below it. */
export function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Compares client credentials from a Basic header both ways RFC 6749 section 2.3.1 is read: raw,
 * and form-decoded (the RFC says to form-encode id and secret before Base64; many clients do not).
 */
export function sameCredential(presented: string, expected: string): boolean {
  if (presented === expected) return true;
  try {
    return decodeURIComponent(presented.replace(/\+/g, ' ')) === expected;
  } catch {
    return false;
  }
}

/** The answer to a known path asked with the wrong method. */
export function methodNotAllowed(allowed: string): MockReply {
  return {
    status: 405,
    headers: { allow: allowed, 'content-type': 'application/json' },
    body: JSON.stringify({ error: 'method_not_allowed', error_description: `Use ${allowed}` }),
  };
}

type Handler = (req: MockRequest) => MockReply | Promise<MockReply>;

/** The routes of a vendor with one form-encoded token endpoint (POST only) and an API prefix. */
export function formTokenAndApiRoutes(tokenPath: string, apiPrefix: string, token: Handler, api: Handler): VendorSim<unknown>['route'] {
  return (method, path) => {
    if (path === tokenPath) {
      return { kind: 'token', grant: formGrant, handle: (req) => (method === 'POST' ? token(req) : methodNotAllowed('POST')) };
    }
    if (under(path, apiPrefix)) return { kind: 'api', handle: api };
    return undefined;
  };
}
