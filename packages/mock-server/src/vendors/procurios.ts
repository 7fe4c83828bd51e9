/**
 * Procurios: the authorization code grant (with the doc's non-standard parameter names) and the
 * client credentials grant at `/l/oauth2/*`, and the versioned API at `/l/module_api/*`.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  appendQuery,
  escapeHtml,
  htmlReply,
  jsonReply,
  oauthError,
  redirectReply,
  tokenReply,
  type MockReply,
  type MockRequest,
} from '../http.js';
import { isLoopbackHost } from '../options.js';
import { opaqueToken } from '../tokens.js';
import { apiEcho, checkBearer, formGrant, methodNotAllowed, under, type VendorContext, type VendorSim } from './vendor.js';

/** The client the Procurios simulation accepts: the doc's own example values. */
export interface ProcuriosCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The scope to ask for; the client may claim any of `scopes`. */
  readonly scope: string;
  readonly scopes: readonly string[];
  /** Where the authorize endpoint may send the browser back to. */
  readonly redirectUrls: readonly string[];
  /** The user on whose behalf the authorize endpoint approves. */
  readonly username: string;
}

const AUTHORIZE_PATH = '/l/oauth2/authorize';
const TOKEN_PATH = '/l/oauth2/token';
const API_PREFIX = '/l/module_api';
// The doc's example API requests send `Accept: application/vnd.procurios.application+json; version=1`.
const MEDIA_TYPE = 'application/vnd.procurios.application+json';
const API_VERSION = '1';
const CONSENT_TTL_MS = 10 * 60 * 1000;
const MAX_PENDING = 1000;

/** An authorization request that passed validation, waiting for a code (or for consent). */
interface Pending {
  readonly clientId: string;
  readonly redirect: string;
  readonly scope: string;
  readonly state: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: string;
}

interface IssuedCode extends Pending {
  readonly expiresAt: number;
  used: boolean;
}

/** A map that keeps at most MAX_PENDING entries, dropping the oldest. */
function boundedSet<T>(map: Map<string, T>, key: string, value: T): void {
  if (map.size >= MAX_PENDING) map.delete(map.keys().next().value!);
  map.set(key, value);
}

export function procurios(ctx: VendorContext): VendorSim<ProcuriosCredentials> {
  const { options, tokens } = ctx;
  const credentials: ProcuriosCredentials = {
    // "client_id=abc123 ... client_secret=dfe456 ... scope=profile": the doc's examples run as written.
    clientId: 'abc123',
    clientSecret: 'dfe456',
    scope: 'profile',
    scopes: ['profile', 'module_api'],
    redirectUrls: options.redirectUrls,
    username: 'mock-user',
  };
  const codes = new Map<string, IssuedCode>();
  const consents = new Map<string, { pending: Pending; expiresAt: number }>();

  function redirectAllowed(candidate: string): boolean {
    return credentials.redirectUrls.some((registered) => registered === candidate || sameLoopbackIgnoringPort(registered, candidate));
  }

  function errorPage(message: string): MockReply {
    return htmlReply(400, page('Authorization failed', `<p>${escapeHtml(message)}</p>`));
  }

  /** Validates an authorize request: an error page while the redirect is unverified, a redirect after. */
  function validate(query: URLSearchParams): Pending | MockReply {
    const clientId = query.get('client_id');
    if (clientId !== credentials.clientId) return errorPage(clientId ? 'Unknown client_id.' : 'Missing client_id.');
    // The doc names it `redirect_url`; RFC 6749 names it `redirect_uri`. Either works, not both differing.
    const url = query.get('redirect_url');
    const uri = query.get('redirect_uri');
    if (url !== null && uri !== null && url !== uri) return errorPage('redirect_url and redirect_uri differ.');
    const redirect = url ?? uri;
    if (!redirect) return errorPage('Missing redirect_url.');
    if (!redirectAllowed(redirect)) return errorPage('The redirect_url is not registered for this client.');

    const state = query.get('state') ?? undefined;
    const fail = (error: string, description: string): MockReply =>
      redirectReply(appendQuery(redirect, { error, error_description: description, state }));
    // The doc's template says `grant_type=code`, its example `response_type=code`: take either.
    const responseType = query.get('response_type') ?? query.get('grant_type');
    if (!responseType) return fail('invalid_request', 'Missing response_type.');
    if (responseType !== 'code') return fail('unsupported_response_type', `Unsupported response_type: ${responseType}.`);
    const requested = (query.get('scope') ?? '').split(' ').filter(Boolean);
    const unknown = requested.filter((s) => !credentials.scopes.includes(s));
    if (unknown.length > 0) return fail('invalid_scope', `Unknown scope: ${unknown.join(' ')}.`);
    const codeChallenge = query.get('code_challenge') ?? undefined;
    const codeChallengeMethod = query.get('code_challenge_method') ?? 'plain';
    if (codeChallenge !== undefined && codeChallengeMethod !== 'S256' && codeChallengeMethod !== 'plain') {
      return fail('invalid_request', 'Unsupported code_challenge_method.');
    }
    const scope = requested.length > 0 ? requested.join(' ') : credentials.scope;
    return { clientId, redirect, scope, state, codeChallenge, codeChallengeMethod };
  }

  function approve(pending: Pending): MockReply {
    const code = opaqueToken();
    boundedSet(codes, code, { ...pending, expiresAt: Date.now() + options.authorizationCodeTtlSeconds * 1000, used: false });
    // "{redirectUrl}?code={code}", with the state echoed when the client sent one.
    return redirectReply(appendQuery(pending.redirect, { code, state: pending.state }));
  }

  function authorize(req: MockRequest): MockReply {
    if (req.method === 'GET') {
      const pending = validate(req.query);
      if (!('clientId' in pending)) return pending;
      if (!options.requireConsent) return approve(pending);
      const ticket = randomUUID();
      boundedSet(consents, ticket, { pending, expiresAt: Date.now() + CONSENT_TTL_MS });
      return htmlReply(200, consentPage(ticket, pending, credentials.username));
    }
    if (req.method === 'POST') {
      // The consent form's answer. A ticket works once.
      const ticket = req.form.get('consent') ?? '';
      const consent = consents.get(ticket);
      consents.delete(ticket);
      if (consent === undefined || Date.now() >= consent.expiresAt) return errorPage('This consent request is unknown or has expired.');
      if (req.form.get('decision') !== 'approve') {
        const { redirect, state } = consent.pending;
        return redirectReply(appendQuery(redirect, { error: 'access_denied', error_description: 'The user denied access.', state }));
      }
      return approve(consent.pending);
    }
    return methodNotAllowed('GET, POST');
  }

  function issueAccessToken(clientId: string, subject: string, scope: string, code?: string): string {
    const value = opaqueToken();
    const now = Date.now();
    // The code grant's answer states no expiry; the token still dies after the access TTL, so a
    // client learns it from the API's 401.
    tokens.add({ value, kind: 'access', clientId, subject, scope, sessionId: randomUUID(), issuedAt: now, expiresAt: now + options.accessTokenTtlSeconds * 1000, code });
    return value;
  }

  function exchangeCode(form: URLSearchParams, clientId: string): MockReply {
    const code = form.get('code');
    if (!code) return oauthError(400, 'invalid_request', 'Missing parameter: code');
    const issued = codes.get(code);
    if (issued === undefined || Date.now() >= issued.expiresAt) {
      return oauthError(400, 'invalid_grant', 'The authorization code is invalid or has expired');
    }
    if (issued.used) {
      // RFC 6749 section 4.1.2: a code used twice revokes what it produced.
      tokens.revokeWhere((r) => r.code === code);
      return oauthError(400, 'invalid_grant', 'The authorization code has already been used');
    }
    if (issued.clientId !== clientId) return oauthError(400, 'invalid_grant', 'The authorization code was issued to another client');
    // The doc's token request carries no redirect; when a client sends one, it must match.
    const redirect = form.get('redirect_url') ?? form.get('redirect_uri');
    if (redirect !== null && redirect !== issued.redirect) {
      return oauthError(400, 'invalid_grant', 'The redirect_url does not match the authorization request');
    }
    // PKCE (RFC 7636) when the authorize request carried a challenge.
    if (issued.codeChallenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code_verifier');
      const derived = issued.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (derived !== issued.codeChallenge) return oauthError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge');
    }
    issued.used = true;
    const accessToken = issueAccessToken(clientId, credentials.username, issued.scope, code);
    if (options.singleQuotedTokenResponse) {
      // The doc's literal answer, `{'access_token': '{accessToken}'}`, which is not JSON.
      return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: `{'access_token': '${accessToken}'}` };
    }
    // "Access token response: {'access_token': '{accessToken}'}": the access token and nothing else.
    return tokenReply(200, { access_token: accessToken });
  }

  function clientCredentials(form: URLSearchParams, clientId: string): MockReply {
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const unknown = requested.filter((s) => !credentials.scopes.includes(s));
    if (unknown.length > 0) return oauthError(400, 'invalid_scope', `Unknown scope: ${unknown.join(' ')}`);
    const scope = requested.length > 0 ? requested.join(' ') : credentials.scope;
    const accessToken = issueAccessToken(clientId, clientId, scope);
    return tokenReply(200, { access_token: accessToken, token_type: 'bearer', expires_in: options.accessTokenTtlSeconds, scope });
  }

  function token(req: MockRequest): MockReply {
    if (req.method !== 'POST') return methodNotAllowed('POST');
    const form = req.form;
    const grantType = form.get('grant_type');
    if (!grantType) return oauthError(400, 'invalid_request', 'Missing parameter: grant_type');
    // The doc's code exchange sends the non-standard `grant_type=code`; RFC 6749's
    // `authorization_code` works too.
    if (!['code', 'authorization_code', 'client_credentials'].includes(grantType)) {
      return oauthError(400, 'unsupported_grant_type', `Unsupported grant_type: ${grantType}`);
    }
    // client_secret_post: both of the doc's token requests put client_id and client_secret in the body.
    if (form.get('client_id') !== credentials.clientId || form.get('client_secret') !== credentials.clientSecret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    }
    return grantType === 'client_credentials' ? clientCredentials(form, credentials.clientId) : exchangeCode(form, credentials.clientId);
  }

  function api(req: MockRequest): MockReply {
    const check = checkBearer(tokens, req);
    if (!check.ok) {
      return jsonReply(
        401,
        { error: 'invalid_token', error_description: 'The access token is missing, expired or revoked' },
        { 'www-authenticate': check.reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"' },
      );
    }
    if (!acceptsProcuriosJson(req.headers.accept)) {
      return jsonReply(406, {
        error: 'not_acceptable',
        error_description: `Send Accept: ${MEDIA_TYPE}; version=${API_VERSION}`,
      });
    }
    return {
      status: 200,
      headers: { 'content-type': `${MEDIA_TYPE}; version=${API_VERSION}` },
      body: JSON.stringify({ data: apiEcho(req, check.record) }),
    };
  }

  return {
    credentials,
    paths: { token: TOKEN_PATH, api: API_PREFIX, authorize: AUTHORIZE_PATH },
    route(_method, path) {
      if (path === AUTHORIZE_PATH) return { kind: 'authorize', handle: authorize };
      if (path === TOKEN_PATH) return { kind: 'token', grant: formGrant, handle: token };
      if (under(path, API_PREFIX)) return { kind: 'api', handle: api };
      return undefined;
    },
    notFound: () => jsonReply(404, { error: 'not_found' }),
    issueAccessToken: () => Promise.resolve(issueAccessToken(credentials.clientId, credentials.username, credentials.scope)),
  };
}

/** True when an Accept header asks for the Procurios media type at API version 1. */
export function acceptsProcuriosJson(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== MEDIA_TYPE) return false;
    return params.some((p) => p.replace(/\s+/g, '') === `version=${API_VERSION}` || p.replace(/\s+/g, '') === `version="${API_VERSION}"`);
  });
}

/** Exact match, except that a loopback `http` redirect may use any port (RFC 8252 section 7.3). */
function sameLoopbackIgnoringPort(registered: string, candidate: string): boolean {
  if (!URL.canParse(registered) || !URL.canParse(candidate)) return false;
  const a = new URL(registered);
  const b = new URL(candidate);
  return (
    a.protocol === 'http:' &&
    b.protocol === 'http:' &&
    isLoopbackHost(a.hostname.replace(/^\[|\]$/g, '')) &&
    a.hostname === b.hostname &&
    a.pathname === b.pathname &&
    a.search === b.search &&
    b.hash === ''
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

function consentPage(ticket: string, pending: Pending, username: string): string {
  return page(
    'Procurios (mock): authorize access',
    `<p>Signed in as <strong>${escapeHtml(username)}</strong>.</p>
<p>The application <strong>${escapeHtml(pending.clientId)}</strong> asks for: <code>${escapeHtml(pending.scope)}</code>.</p>
<form method="post" action="${AUTHORIZE_PATH}">
<input type="hidden" name="consent" value="${escapeHtml(ticket)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}
