/**
 * Prodoscore: a Keycloak realm (`ind-prod`) with a public client, the password and refresh_token
 * grants, and a protected API under `/api`.
 */
import { randomUUID } from 'node:crypto';
import { basicCredentials, jsonReply, oauthError, tokenReply, type MockReply, type MockRequest } from '../http.js';
import { epochSeconds } from '../tokens.js';
import { apiEcho, checkBearer, formTokenAndApiRoutes, type VendorContext, type VendorSim } from './vendor.js';

/** The public client and the user the Prodoscore simulation accepts. */
export interface ProdoscoreCredentials {
  /** The doc: "Your Client ID is your Prodoscore Customer ID". */
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

const REALM = '/realms/ind-prod';
const TOKEN_PATH = `${REALM}/protocol/openid-connect/token`;
const API_PREFIX = '/api';
const SCOPE = 'email profile';

export function prodoscore(ctx: VendorContext): VendorSim<ProdoscoreCredentials> {
  const { options, tokens, jwt } = ctx;
  const credentials: ProdoscoreCredentials = {
    clientId: 'mock-customer-id',
    username: 'user@example.com',
    password: 'mock-password',
  };
  const subject = randomUUID();
  const issuer = (): string => `${ctx.baseUrl()}${REALM}`;

  /** A Keycloak token response: a new access and refresh token pair in the given session. */
  async function issue(clientId: string, sessionId: string): Promise<Record<string, unknown>> {
    const now = Date.now();
    const iat = epochSeconds(now);
    const accessTtl = options.accessTokenTtlSeconds;
    // Keycloak's refresh token lifetime is its SSO idle timeout, so every refresh starts it anew.
    const refreshTtl = options.refreshTokenTtlSeconds;
    const common = { iat, iss: issuer(), sub: subject, azp: clientId, session_state: sessionId, sid: sessionId, scope: SCOPE };
    const accessToken = await jwt.sign({
      ...common,
      exp: iat + accessTtl,
      jti: randomUUID(),
      aud: 'account',
      typ: 'Bearer',
      email_verified: true,
      preferred_username: credentials.username,
      email: credentials.username,
    });
    const refreshToken = await jwt.sign({ ...common, exp: iat + refreshTtl, jti: randomUUID(), aud: issuer(), typ: 'Refresh' });
    const record = { clientId, subject, scope: SCOPE, sessionId, issuedAt: now };
    tokens.add({ ...record, value: accessToken, kind: 'access', expiresAt: now + accessTtl * 1000 });
    tokens.add({ ...record, value: refreshToken, kind: 'refresh', expiresAt: now + refreshTtl * 1000 });
    // The doc's example response has the first five fields; a Keycloak realm also sends the last three.
    return {
      access_token: accessToken,
      expires_in: accessTtl,
      refresh_expires_in: refreshTtl,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: sessionId,
      scope: SCOPE,
    };
  }

  async function token(req: MockRequest): Promise<MockReply> {
    const form = req.form;
    // Keycloak checks the grant type, then authenticates the client, then runs the grant.
    const grantType = form.get('grant_type');
    if (!grantType) return oauthError(400, 'invalid_request', 'Missing form parameter: grant_type');
    if (!['password', 'refresh_token', 'client_credentials'].includes(grantType)) {
      return oauthError(400, 'unsupported_grant_type', 'Unsupported grant_type');
    }
    // A public client: the doc sends `client_id=YOUR_CUSTOMER_ID` in the body and no secret.
    // Keycloak also reads the client id from a Basic header, so that works too.
    const clientId = form.get('client_id') ?? basicCredentials(req.headers)?.id;
    if (!clientId) return oauthError(400, 'invalid_client', 'Missing client_id parameter');
    if (clientId !== credentials.clientId) {
      return oauthError(401, 'invalid_client', 'Invalid client or Invalid client credentials');
    }

    if (grantType === 'client_credentials') {
      return oauthError(401, 'unauthorized_client', 'Public client not allowed to retrieve service account');
    }
    if (grantType === 'password') {
      const username = form.get('username');
      if (!username) return oauthError(401, 'invalid_request', 'Missing parameter: username');
      // Keycloak stores usernames in lower case, so the login is case-insensitive; the password is not.
      if (username.toLowerCase() !== credentials.username || form.get('password') !== credentials.password) {
        return oauthError(401, 'invalid_grant', 'Invalid user credentials');
      }
      return tokenReply(200, await issue(clientId, randomUUID()));
    }

    const presented = form.get('refresh_token');
    if (!presented) return oauthError(400, 'invalid_request', 'Missing parameter: refresh_token');
    const check = tokens.check(presented, 'refresh');
    switch (check.status) {
      case 'unknown':
        return oauthError(400, 'invalid_grant', 'Invalid refresh token');
      case 'expired':
        return oauthError(400, 'invalid_grant', 'Token is not active');
      case 'revoked':
        return oauthError(400, 'invalid_grant', 'Session not active');
      case 'used':
        if (!options.allowRefreshTokenReuse) {
          // Keycloak's wording with "Revoke Refresh Token" on and a maximum reuse of 0.
          return oauthError(400, 'invalid_grant', 'Maximum allowed refresh token reuse exceeded');
        }
        break;
      case 'live':
        break;
    }
    const record = check.record;
    if (record.clientId !== clientId) {
      return oauthError(400, 'invalid_grant', "Invalid refresh token. Token client and authorized client don't match");
    }
    record.used = true;
    return tokenReply(200, await issue(clientId, record.sessionId));
  }

  function api(req: MockRequest): MockReply {
    const check = checkBearer(tokens, req);
    if (!check.ok) {
      const challenge =
        check.reason === 'missing'
          ? 'Bearer realm="ind-prod"'
          : 'Bearer realm="ind-prod", error="invalid_token", error_description="Token verification failed"';
      return jsonReply(
        401,
        { error: check.reason === 'missing' ? 'unauthorized' : 'invalid_token', error_description: apiReason[check.reason] },
        { 'www-authenticate': challenge },
      );
    }
    return jsonReply(200, apiEcho(req, check.record));
  }

  return {
    credentials,
    paths: { token: TOKEN_PATH, api: API_PREFIX },
    route: formTokenAndApiRoutes(TOKEN_PATH, API_PREFIX, token, api),
    notFound: () => jsonReply(404, { error: 'Unable to find matching target resource method' }),
    async issueAccessToken() {
      const body = await issue(credentials.clientId, randomUUID());
      return body.access_token as string;
    },
  };
}

const apiReason: Record<'missing' | 'unknown' | 'expired' | 'revoked', string> = {
  missing: 'Bearer token required',
  unknown: 'Invalid token',
  expired: 'Token is not active',
  revoked: 'Session not active',
};
