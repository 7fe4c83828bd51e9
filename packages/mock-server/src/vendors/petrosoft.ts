/**
 * Petrosoft: JSON login and refresh endpoints in front of a Keycloak realm, with PHP-style error
 * envelopes, and a protected API under `/v1`.
 */
import { randomUUID } from 'node:crypto';
import { jsonReply, tokenReply, type MockReply, type MockRequest } from '../http.js';
import { epochSeconds } from '../tokens.js';
import { apiEcho, checkBearer, methodNotAllowed, under, type Route, type VendorContext, type VendorSim } from './vendor.js';

/** The API user the Petrosoft simulation accepts: the doc's own example login. */
export interface PetrosoftCredentials {
  readonly login: string;
  readonly password: string;
}

const TOKEN_PATH = '/v1/auth/token';
const REFRESH_PATH = '/v1/auth/refresh_token';
const AUTH_PREFIX = '/v1/auth';
const API_PREFIX = '/v1';
const MAX_SESSIONS = 10_000;

// The doc's 500 message for /v1/auth/token, and the same provider wording for the refresh endpoint.
const CREDENTIALS_PROVIDER_FAILED =
  "Provider App\\Application\\TokenProvider\\CredentialsTokenProvider can't implement operation due restrictions.";
const REFRESH_PROVIDER_FAILED =
  "Provider App\\Application\\TokenProvider\\RefreshTokenProvider can't implement operation due restrictions.";

/** The doc's error envelope: `{ success: false, data: [], message, http_code, errors: [], total: null }`. */
function failure(status: number, message: string): MockReply {
  return jsonReply(status, { success: false, data: [], message, http_code: status, errors: [], total: null });
}

/** The body as JSON, whatever the content type says, as a PHP `json_decode` of the raw body would. */
function jsonBody(req: MockRequest): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(req.body) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return undefined;
  }
}

export function petrosoft(ctx: VendorContext): VendorSim<PetrosoftCredentials> {
  const { options, tokens, jwt } = ctx;
  // "Request example: { "login": "APIUser@petrosoftinc.com", "password": "Password_01" }".
  const credentials: PetrosoftCredentials = { login: 'APIUser@petrosoftinc.com', password: 'Password_01' };
  const subject = randomUUID();
  const issuer = (): string => `${ctx.baseUrl()}/auth/realms/cid`;
  // When each login session ends, fixed at login: refreshing does not move it.
  const sessions = new Map<string, { endSec: number; endMs: number }>();

  /**
   * A token response in the doc's shape. Units: the doc's table says `expires_in` is in "minutes",
   * but its example answers 86400 for a token whose JWT `exp - iat` is 86400, so these are seconds,
   * and the access token's `exp` always agrees with `expires_in`.
   */
  async function issue(sessionId: string): Promise<Record<string, unknown>> {
    const session = sessions.get(sessionId)!;
    const now = Date.now();
    const iat = epochSeconds(now);
    // The doc's refresh example answers 86373 for both after a login that answered 86400, and its
    // JWTs keep the login's `exp`: the session end does not slide, and the access token never
    // outlives it.
    const accessExp = Math.min(iat + options.accessTokenTtlSeconds, session.endSec);
    const common = { nbf: 0, iat, iss: issuer(), sub: subject, azp: 'oidc', auth_time: 0, session_state: sessionId, scope: '' };
    const roles = { realm_access: { roles: ['offline_access', 'uma_authorization'] } };
    const accessToken = await jwt.sign({
      ...common,
      ...roles,
      jti: randomUUID(),
      exp: accessExp,
      aud: 'account',
      typ: 'Bearer',
      acr: '1',
      'allowed-origins': ['*'],
      name: 'API User',
      preferred_username: credentials.login.toLowerCase(),
      email: credentials.login.toLowerCase(),
    });
    const refreshToken = await jwt.sign({ ...common, ...roles, jti: randomUUID(), exp: session.endSec, aud: issuer(), typ: 'Refresh' });
    const record = { clientId: 'oidc', subject, scope: '', sessionId, issuedAt: now };
    tokens.add({ ...record, value: accessToken, kind: 'access', expiresAt: Math.min(now + options.accessTokenTtlSeconds * 1000, session.endMs) });
    tokens.add({ ...record, value: refreshToken, kind: 'refresh', expiresAt: session.endMs });
    return {
      access_token: accessToken,
      expires_in: accessExp - iat,
      refresh_expires_in: session.endSec - iat,
      refresh_token: refreshToken,
      token_type: 'bearer',
      'not-before-policy': 0,
      session_state: sessionId,
      scope: '',
    };
  }

  function startSession(): string {
    if (sessions.size >= MAX_SESSIONS) {
      const now = Date.now();
      for (const [id, s] of sessions) if (s.endMs <= now) sessions.delete(id);
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    }
    const now = Date.now();
    const ttl = options.refreshTokenTtlSeconds;
    const sessionId = randomUUID();
    sessions.set(sessionId, { endSec: epochSeconds(now) + ttl, endMs: now + ttl * 1000 });
    return sessionId;
  }

  async function login(req: MockRequest): Promise<MockReply> {
    const body = jsonBody(req);
    // PHP's json_decode error message.
    if (body === undefined) return failure(500, 'Syntax error');
    const { login: user, password } = body;
    if (typeof user !== 'string' || typeof password !== 'string' || user === '' || password === '') {
      return failure(500, CREDENTIALS_PROVIDER_FAILED);
    }
    // Keycloak keeps usernames in lower case: the doc's "APIUser@..." logs in as "apiuser@...".
    if (user.toLowerCase() !== credentials.login.toLowerCase() || password !== credentials.password) {
      return tokenReply(401, { error: 'invalid_grant', error_description: 'Invalid user credentials' });
    }
    return tokenReply(200, await issue(startSession()));
  }

  async function refresh(req: MockRequest): Promise<MockReply> {
    const body = jsonBody(req);
    if (body === undefined) return failure(500, 'Syntax error');
    const presented = body.refresh_token;
    if (typeof presented !== 'string' || presented === '') return failure(500, REFRESH_PROVIDER_FAILED);
    // The doc's only refresh error: a 500 that echoes the token it could not parse.
    const parts = presented.split('.').length;
    if (parts !== 3) return failure(500, `JWT missing parts. Total number of parts: ${parts} Token: ${presented}`);
    // The doc documents only 500 for this endpoint, so every other rejection is a 500 too, with
    // the message of the Keycloak realm behind it.
    const check = tokens.check(presented, 'refresh');
    switch (check.status) {
      case 'unknown':
        return failure(500, 'Invalid refresh token');
      case 'expired':
        return failure(500, 'Token is not active');
      case 'revoked':
        return failure(500, 'Session not active');
      case 'used':
        // Each refresh token works once: the answer carries the next one.
        if (!options.allowRefreshTokenReuse) return failure(500, 'Maximum allowed refresh token reuse exceeded');
        break;
      case 'live':
        break;
    }
    const session = sessions.get(check.record.sessionId);
    if (session === undefined || epochSeconds(Date.now()) >= session.endSec) return failure(500, 'Token is not active');
    check.record.used = true;
    return tokenReply(200, await issue(check.record.sessionId));
  }

  function api(req: MockRequest): MockReply {
    const check = checkBearer(tokens, req);
    if (!check.ok) return failure(401, 'Unauthorized');
    return jsonReply(200, { success: true, data: [apiEcho(req, check.record)], message: '', http_code: 200, errors: [], total: 1 });
  }

  const post = (handler: (req: MockRequest) => Promise<MockReply>): Route['handle'] => {
    return (req) => (req.method === 'POST' ? handler(req) : methodNotAllowed('POST'));
  };

  return {
    credentials,
    paths: { token: TOKEN_PATH, refresh: REFRESH_PATH, api: API_PREFIX },
    route(_method, path) {
      if (path === TOKEN_PATH) return { kind: 'token', grant: () => 'password', handle: post(login) };
      if (path === REFRESH_PATH) return { kind: 'token', grant: () => 'refresh_token', handle: post(refresh) };
      if (under(path, API_PREFIX) && !under(path, AUTH_PREFIX)) return { kind: 'api', handle: api };
      return undefined;
    },
    notFound: () => failure(404, 'Not Found'),
    async issueAccessToken() {
      const body = await issue(startSession());
      return body.access_token as string;
    },
  };
}
