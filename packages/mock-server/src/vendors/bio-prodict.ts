/**
 * Bio-Prodict: a Spring Security OAuth2 token endpoint at `/oauth/oauth/token` with Basic client
 * authentication, the password grant with an optional two-factor code, refresh tokens for some
 * clients only, and a protected API under `/api`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { basicCredentials, jsonReply, type MockReply, type MockRequest } from '../http.js';
import { epochSeconds } from '../tokens.js';
import {
  apiEcho,
  checkBearer,
  formTokenAndApiRoutes,
  sameCredential,
  type VendorContext,
  type VendorSim,
} from './vendor.js';

/** The clients and users the Bio-Prodict simulation accepts. */
export interface BioProdictCredentials {
  /** A client that gets no refresh token ("refresh tokens are not available for all client_id's"). */
  readonly clientId: string;
  readonly clientSecret: string;
  /** A user without two-factor authentication. Its password has characters that must be form-encoded. */
  readonly username: string;
  readonly password: string;
  readonly fullname: string;
  readonly userid: number;
  /** A second client, which does get refresh tokens. */
  readonly refreshClient: { readonly clientId: string; readonly clientSecret: string };
  /** A user with two-factor authentication: every login needs a fresh code from `nextTwoFactorCode()`. */
  readonly twoFactorUser: { readonly username: string; readonly password: string; readonly fullname: string; readonly userid: number };
}

interface Client {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly grants: readonly string[];
}

interface User {
  readonly username: string;
  readonly password: string;
  readonly fullname: string;
  readonly userid: number;
  readonly twoFactor: boolean;
}

const TOKEN_PATH = '/oauth/oauth/token';
const API_PREFIX = '/api';
const SCOPE = 'read write';
// Spring's token granters; a grant type outside them is "unsupported", one inside them that the
// client may not use is an "unauthorized grant type".
const SPRING_GRANTS = ['password', 'refresh_token', 'client_credentials', 'authorization_code'];
const MAX_OUTSTANDING_CODES = 1000;

// Spring writes these as `application/json;charset=UTF-8`, with `Cache-Control: no-store`.
const SPRING_JSON = {
  'content-type': 'application/json;charset=UTF-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
};

function springError(status: number, error: string, description: string, headers: Record<string, string> = {}): MockReply {
  return jsonReply(status, { error, error_description: description }, { ...SPRING_JSON, ...headers });
}

export function bioProdict(ctx: VendorContext): VendorSim<BioProdictCredentials> {
  const { options, tokens, jwt } = ctx;
  const clients: Client[] = [
    { clientId: 'mock-3dm-client', clientSecret: 'mock-3dm-secret', grants: ['password'] },
    { clientId: 'mock-3dm-refresh-client', clientSecret: 'mock-3dm-refresh-secret', grants: ['password', 'refresh_token'] },
  ];
  const users: User[] = [
    { username: 'researcher', password: 'mock-p@ss&word=1', fullname: 'Mock Researcher', userid: 1001, twoFactor: false },
    { username: 'researcher-2fa', password: 'mock-p@ss&word=2', fullname: 'Mock Researcher (2FA)', userid: 1002, twoFactor: true },
  ];
  const [client, refreshClient] = clients as [Client, Client];
  const [user, twoFactorUser] = users as [User, User];
  const credentials: BioProdictCredentials = {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    username: user.username,
    password: user.password,
    fullname: user.fullname,
    userid: user.userid,
    refreshClient: { clientId: refreshClient.clientId, clientSecret: refreshClient.clientSecret },
    twoFactorUser: {
      username: twoFactorUser.username,
      password: twoFactorUser.password,
      fullname: twoFactorUser.fullname,
      userid: twoFactorUser.userid,
    },
  };

  // Outstanding two-factor codes and when each stops working; each works once.
  const twoFactorCodes = new Map<string, number>();

  function nextTwoFactorCode(): string {
    let code: string;
    do code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    while (twoFactorCodes.has(code));
    if (twoFactorCodes.size >= MAX_OUTSTANDING_CODES) twoFactorCodes.delete(twoFactorCodes.keys().next().value!);
    twoFactorCodes.set(code, Date.now() + options.twoFactorCodeTtlSeconds * 1000);
    return code;
  }

  function spendTwoFactorCode(code: string): boolean {
    const expiresAt = twoFactorCodes.get(code);
    twoFactorCodes.delete(code);
    return expiresAt !== undefined && Date.now() < expiresAt;
  }

  /** A Spring token response; the claims are those of Spring's JwtAccessTokenConverter. */
  async function issue(forClient: Client, forUser: User, sessionId: string): Promise<Record<string, unknown>> {
    const now = Date.now();
    const accessTtl = options.accessTokenTtlSeconds;
    const jti = randomUUID();
    const claims = {
      user_name: forUser.username,
      scope: SCOPE.split(' '),
      authorities: ['ROLE_USER'],
      client_id: forClient.clientId,
      fullname: forUser.fullname,
      userid: forUser.userid,
    };
    const accessToken = await jwt.sign({ ...claims, exp: epochSeconds(now) + accessTtl, jti });
    const record = { clientId: forClient.clientId, subject: forUser.username, scope: SCOPE, sessionId, issuedAt: now };
    tokens.add({ ...record, value: accessToken, kind: 'access', expiresAt: now + accessTtl * 1000 });

    let refreshToken: string | undefined;
    // "Note that refresh tokens are not available for all client_id's": only a client allowed
    // the refresh_token grant gets one.
    if (forClient.grants.includes('refresh_token')) {
      const refreshTtl = options.refreshTokenTtlSeconds;
      refreshToken = await jwt.sign({ ...claims, exp: epochSeconds(now) + refreshTtl, jti: randomUUID(), ati: jti });
      tokens.add({ ...record, value: refreshToken, kind: 'refresh', expiresAt: now + refreshTtl * 1000 });
    }
    return {
      access_token: accessToken,
      // The doc's example: "token_type": "bearer", in lower case, as Spring writes it.
      token_type: 'bearer',
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
      // Spring counts the seconds left, rounded down, a moment after issuing: the doc's 43199 for
      // a 43200-second token.
      expires_in: Math.max(1, accessTtl - 1),
      scope: SCOPE,
      fullname: forUser.fullname,
      jti,
      userid: forUser.userid,
      username: forUser.username,
    };
  }

  async function token(req: MockRequest): Promise<MockReply> {
    // Spring's filter chain authenticates the client before the endpoint runs. The doc: "The token
    // request needs to contain an authorization header: {"Authorization": "Basic {client_details}"}".
    const basic = basicCredentials(req.headers);
    if (basic === undefined) {
      return springError(401, 'unauthorized', 'Full authentication is required to access this resource', {
        'www-authenticate': 'Basic realm="oauth2/client"',
      });
    }
    if (basic === null) {
      return springError(401, 'unauthorized', 'Failed to decode basic authentication token', {
        'www-authenticate': 'Basic realm="oauth2/client"',
      });
    }
    const authenticated = clients.find((c) => sameCredential(basic.id, c.clientId) && sameCredential(basic.secret, c.clientSecret));
    if (authenticated === undefined) {
      return springError(401, 'unauthorized', 'Bad credentials', { 'www-authenticate': 'Basic realm="oauth2/client"' });
    }

    const form = req.form;
    const bodyClientId = form.get('client_id');
    if (bodyClientId && bodyClientId !== authenticated.clientId) {
      return springError(401, 'invalid_client', 'Given client ID does not match authenticated client');
    }
    const grantType = form.get('grant_type');
    if (!grantType) return springError(400, 'invalid_request', 'Missing grant type');
    if (!SPRING_GRANTS.includes(grantType)) return springError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
    if (!authenticated.grants.includes(grantType)) {
      return springError(401, 'invalid_client', `Unauthorized grant type: ${grantType}`);
    }

    if (grantType === 'password') {
      // The doc lists client_id and client_secret among the token request's parameters, besides
      // the Basic header, so the simulation wants them in the body too.
      if (bodyClientId !== authenticated.clientId || form.get('client_secret') !== authenticated.clientSecret) {
        return springError(401, 'invalid_client', 'Bad client credentials');
      }
      const found = users.find((u) => u.username === form.get('username') && u.password === form.get('password'));
      if (found === undefined) return springError(400, 'invalid_grant', 'Bad credentials');
      // "twofactor: Optional two-factor code": required for a user who has two-factor enabled.
      // The doc gives no error wording for it; these descriptions are the simulation's own.
      if (found.twoFactor) {
        const code = form.get('twofactor');
        if (!code) return springError(400, 'invalid_grant', 'Two-factor code required');
        if (!spendTwoFactorCode(code)) return springError(400, 'invalid_grant', 'Invalid two-factor code');
      }
      return jsonReply(200, await issue(authenticated, found, randomUUID()), SPRING_JSON);
    }

    // grant_type=refresh_token. Spring puts the presented value in its messages, so they echo the
    // token ("null" when there was none).
    const presented = form.get('refresh_token');
    const check = presented ? tokens.check(presented, 'refresh') : { status: 'unknown' as const };
    if (check.status === 'expired') {
      return springError(401, 'invalid_token', `Invalid refresh token (expired): ${presented}`);
    }
    if (check.status === 'unknown' || check.status === 'revoked' || (check.status === 'used' && !options.allowRefreshTokenReuse)) {
      return springError(400, 'invalid_grant', `Invalid refresh token: ${presented ?? 'null'}`);
    }
    const record = check.record;
    if (record.clientId !== authenticated.clientId) {
      return springError(400, 'invalid_grant', `Wrong client for this refresh token: ${presented}`);
    }
    const owner = users.find((u) => u.username === record.subject);
    if (owner === undefined) return springError(400, 'invalid_grant', `Invalid refresh token: ${presented}`);
    record.used = true;
    return jsonReply(200, await issue(authenticated, owner, record.sessionId), SPRING_JSON);
  }

  function api(req: MockRequest): MockReply {
    const check = checkBearer(tokens, req);
    if (check.ok) return jsonReply(200, apiEcho(req, check.record), SPRING_JSON);
    // A Spring resource server names the token it rejects.
    const [error, description] =
      check.reason === 'missing'
        ? ['unauthorized', 'Full authentication is required to access this resource']
        : check.reason === 'expired'
          ? ['invalid_token', `Access token expired: ${check.token}`]
          : ['invalid_token', `Invalid access token: ${check.token}`];
    return springError(401, error, description, {
      'www-authenticate': `Bearer realm="oauth2-resource", error="${error}"`,
    });
  }

  return {
    credentials,
    paths: { token: TOKEN_PATH, api: API_PREFIX },
    route: formTokenAndApiRoutes(TOKEN_PATH, API_PREFIX, token, api),
    // Spring Boot's error body.
    notFound: (req) =>
      jsonReply(404, {
        timestamp: new Date().toISOString(),
        status: 404,
        error: 'Not Found',
        message: 'No message available',
        path: req.path,
      }),
    async issueAccessToken() {
      const body = await issue(client, user, randomUUID());
      return body.access_token as string;
    },
    nextTwoFactorCode,
  };
}
