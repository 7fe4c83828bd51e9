/**
 * No error, event or TokenSet rendering ever carries a secret (DESIGN, "Errors"), whatever a
 * hostile or careless token endpoint echoes back. A property over generated secrets, grants,
 * statuses, content types and error bodies, against one real server on 127.0.0.1, plus one
 * regression test per leak found.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  createTokenClient,
  ErrorCode,
  isProdoAuthError,
  jsonLoginGrant,
  passwordGrant,
  privateKeyJwt,
  ProdoAuthError,
  tlsClientAuth,
  tokenExchangeGrant,
  type TokenExchangeGrantOptions,
  type Grant,
  type TokenClient,
  type TokenClientOptions,
} from '../src/index.js';
import { SecretSet } from '../src/redact.js';
import { makeTestCa } from './helpers/test-ca.js';
import { json, startServer, type RecordedRequest, type TestServer } from './helpers/token-server.js';

// One server for the property, one for the regression tests: a property interrupted by its time
// limit may still have a run in flight, and must not answer another test's requests.
let server: TestServer;
let regressionServer: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res) => json(res, 500, { error: 'no_handler_set' }));
  regressionServer = await startServer((_req, res) => json(res, 500, { error: 'no_handler_set' }));
});
afterAll(() => Promise.all([server.close(), regressionServer.close()]));

// ---------------------------------------------------------------------------------------------
// Leak detection
// ---------------------------------------------------------------------------------------------

const formEncode = (s: string): string => new URLSearchParams({ s }).toString().slice(2);
const jsonEscape = (s: string): string => JSON.stringify(s).slice(1, -1);
/** What a secret looks like once a log pipeline has collapsed its whitespace. */
const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

const htmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const lowerPercent = (s: string): string => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const base64 = (s: string): string => Buffer.from(s).toString('base64');
const base64url = (s: string): string => Buffer.from(s).toString('base64url');

/**
 * Every form in which a secret must not appear: raw, on the wire, JSON-escaped (also with `\/`),
 * HTML-escaped, lower-case percent-encoded, Base64 and base64url, whitespace-collapsed.
 */
function forms(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      lowerPercent(secret),
      formEncode(secret),
      jsonEscape(secret),
      jsonEscape(secret).replace(/\//g, '\\/'),
      htmlEscape(secret),
      base64(secret),
      base64url(secret),
      squash(secret),
    ]),
  ].filter((f) => f.length >= MIN_PREFIX);
}

/** A text with its line breaks (raw or JSON-escaped) and whitespace removed: what a wrapped secret becomes. */
const unwrapped = (text: string): string => text.replace(/\\r|\\n/g, '').replace(/\s+/g, '');

/** Mark a truncated excerpt: a secret cut by one would show as `<its beginning>...`. */
const ELLIPSES = ['...', '\u2026'];
const MIN_PREFIX = 4;

/** Why `text` leaks `secret`, or undefined. */
function leakIn(text: string, secret: string): string | undefined {
  // A secret split by line breaks (a wrapping encoder), whatever else was done to it.
  const bare = unwrapped(secret);
  if (bare.length >= 8 && unwrapped(text).includes(bare)) return `contains ${JSON.stringify(secret)} split by line breaks or spaces`;
  for (const form of forms(secret)) {
    if (text.includes(form)) return `contains ${JSON.stringify(form)}`;
    for (let n = MIN_PREFIX; n < form.length; n++) {
      for (const ellipsis of ELLIPSES) {
        const cut = form.slice(0, n) + ellipsis;
        if (text.includes(cut)) return `contains the truncated ${JSON.stringify(cut)}`;
      }
    }
  }
  return undefined;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch (error) {
    return `<JSON.stringify threw ${String(error)}>`;
  }
}

/** Every way an error (and its cause chain) reaches a log. */
function errorRenderings(error: unknown, label: string, depth = 0): Array<[string, string]> {
  const out: Array<[string, string]> = [
    [`${label} String()`, String(error)],
    [`${label} inspect`, inspect(error, { depth: 10 })],
    [`${label} JSON`, safeJson(error)],
  ];
  if (error instanceof Error) {
    out.push([`${label}.message`, error.message], [`${label}.stack`, error.stack ?? '']);
    for (const [key, value] of Object.entries(error)) {
      if (typeof value === 'string') out.push([`${label}.${key}`, value]);
    }
    if (error.cause !== undefined && depth < 5) out.push(...errorRenderings(error.cause, `${label}.cause`, depth + 1));
  }
  return out;
}

function valueRenderings(value: unknown, label: string): Array<[string, string]> {
  return [
    [`${label} inspect`, inspect(value, { depth: 10 })],
    [`${label} JSON`, safeJson(value)],
  ];
}

function expectNoLeak(renderings: Array<[string, string]>, secrets: ReadonlyArray<[string, string]>): void {
  for (const [where, text] of renderings) {
    for (const [name, secret] of secrets) {
      const leak = leakIn(text, secret);
      if (leak !== undefined) {
        throw new Error(`${where} leaks the ${name}: it ${leak}\n--- ${where} ---\n${text.slice(0, 2000)}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const ALNUM = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
const SAFE_ALPHABET = [...ALNUM, '-', '_', '~'];
// Characters that change under URL, form, JSON or HTML encoding. No '.', so that the excerpt's
// "..." can only come from a cut.
const SPECIAL_ALPHABET = [...SAFE_ALPHABET, '+', '&', '%', ' ', '"', "'", '=', '#', '/', '<', '>', '@', ':', '?', '\\'];
// RFC 6750 b64token: these characters, then '=' padding only at the end.
const TOKEN_ALPHABET = [...ALNUM, '-', '_', '+', '/', '.', '~'];
// Disjoint from the secrets' alphabets (but for the space): padding can never complete or imitate a secret.
const PADDING_ALPHABET = ['*', '!', ',', ';', '(', ')', '^', '|', ' '];

/** Distinctive enough that finding it in a message can only mean a leak. */
const distinctive = (s: string): boolean => new Set(s).size >= 5 && s.replace(/\s/g, '').length >= 8;

const secretArb = (alphabet: string[], maxLength = 24): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: 8, maxLength }).filter(distinctive);

const credentialArb = fc.oneof(secretArb(SAFE_ALPHABET), secretArb(SPECIAL_ALPHABET));

const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const tokenArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(secretArb(TOKEN_ALPHABET, 48).filter((s) => s.length >= 16), fc.constantFrom('', '=', '=='))
    .map(([body, padding]) => body + padding),
  // A JWT, as Keycloak and Petrosoft issue.
  fc
    .record({ jti: secretArb(ALNUM), sig: secretArb([...ALNUM, '-', '_'], 43) })
    .map(
      ({ jti, sig }) =>
        `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: 'alice', jti, exp: 4102444800 }))}.${sig}`,
    ),
);

/** Client keys for private_key_jwt, made once: P-256 keys are quick to make, and each run picks one. */
const CLIENT_KEYS: KeyObject[] = Array.from({ length: 3 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
type KeyForm = 'pem' | 'jwk' | 'keyobject';
/** A client certificate and key for tls_client_auth: its Agent talks plain http to the test server, so only redaction is tested here. */
const TLS_CLIENT = (() => {
  const ca = makeTestCa('prodo-property');
  ca.dispose();
  return ca.client;
})();
const keyInput = (key: KeyObject, form: KeyForm): KeyObject | string | Record<string, unknown> =>
  form === 'pem' ? key.export({ type: 'pkcs8', format: 'pem' }).toString() : form === 'jwk' ? key.export({ format: 'jwk' }) : key;
/** The secret parts of a private key a server could echo: the JWK's `d` and a line of the PEM body. */
function keySecretsOf(key: KeyObject): Array<[string, string]> {
  const pemLines = key.export({ type: 'pkcs8', format: 'pem' }).toString().trim().split('\n');
  return [
    ['private key (JWK d)', String(key.export({ format: 'jwk' }).d)],
    ['private key (a PEM line)', pemLines[2]!],
  ];
}
/** The signature of a client assertion: unique to it, so finding it means the assertion leaked. */
const assertionSignature = (assertion: string): string => assertion.split('.')[2] ?? assertion;

const pairArb = fc.record({ accessToken: tokenArb, refreshToken: fc.option(tokenArb, { nil: undefined }) });

type GrantKind = 'password' | 'client_credentials' | 'json_login' | 'authorization_code' | 'token_exchange';
type Encoding =
  | 'raw'
  | 'uri'
  | 'uri_lower'
  | 'form'
  | 'json'
  | 'json_slash'
  | 'json_unicode'
  | 'html'
  | 'base64'
  | 'base64url'
  | 'wrapped'
  | 'bearer';
const ENCODINGS: Encoding[] = [
  'raw',
  'uri',
  'uri_lower',
  'form',
  'json',
  'json_slash',
  'json_unicode',
  'html',
  'base64',
  'base64url',
  'wrapped',
  'bearer',
];
type BodyKind = 'oauth' | 'oauth_in_error_field' | 'petrosoft' | 'html' | 'text' | 'form' | 'request_echo';

const STATUSES = [400, 401, 403, 429, 500, 502, 503, 200] as const;
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/problem+json',
  'text/html; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
] as const;

const scenarioArb = fc
  .record({
    grant: fc.constantFrom<GrantKind>('password', 'client_credentials', 'json_login', 'authorization_code', 'token_exchange'),
    /** The token exchange grant's subject and actor tokens, and whether the subject token comes from a function. */
    subjectToken: tokenArb,
    actorToken: fc.option(tokenArb, { nil: undefined }),
    subjectFromFunction: fc.boolean(),
    clientAuth: fc.constantFrom(
      'client_secret_basic' as const,
      'client_secret_post' as const,
      'client_secret_jwt' as const,
      'private_key_jwt' as const,
      'tls_client_auth' as const,
    ),
    keyIndex: fc.integer({ min: 0, max: CLIENT_KEYS.length - 1 }),
    keyForm: fc.constantFrom<KeyForm>('pem', 'jwk', 'keyobject'),
    clientSecret: credentialArb,
    password: credentialArb,
    /** Tokens issued by the successful rounds, oldest first. */
    issued: fc.array(pairArb, { minLength: 1, maxLength: 3 }),
    status: fc.constantFrom(...STATUSES),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    body: fc.constantFrom<BodyKind>('oauth', 'oauth_in_error_field', 'petrosoft', 'html', 'text', 'form', 'request_echo'),
    /** Places the echoed secrets at every offset, across the excerpt's cut among them. */
    padding: fc.string({ unit: fc.constantFrom(...PADDING_ALPHABET), maxLength: 260 }),
    encodings: fc.array(fc.constantFrom<Encoding>(...ENCODINGS), { minLength: 1, maxLength: 3 }),
    /** Where a 'wrapped' secret is split by a line break. */
    wrapAt: fc.integer({ min: 1, max: 7 }),
    withErrorUri: fc.boolean(),
  })
  .map((s) =>
    // The authorization code grant cannot log in again: it lives on refresh tokens.
    s.grant === 'authorization_code'
      ? { ...s, issued: s.issued.map((p) => ({ ...p, refreshToken: p.refreshToken ?? `${p.accessToken}-rt` })) }
      : s,
  );

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function encode(secret: string, encoding: Encoding, wrapAt = 4): string {
  switch (encoding) {
    case 'raw':
      return secret;
    case 'uri':
      return encodeURIComponent(secret);
    case 'uri_lower':
      return lowerPercent(secret);
    case 'form':
      return formEncode(secret);
    case 'json':
      return jsonEscape(secret);
    case 'json_slash':
      return jsonEscape(secret).replace(/\//g, '\\/');
    case 'json_unicode':
      // Outside a JSON body: Go's escaping of <, > and &.
      return jsonEscape(secret).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    case 'html':
      return htmlEscape(secret);
    case 'base64':
      return base64(secret);
    case 'base64url':
      return base64url(secret);
    case 'wrapped':
      return `${secret.slice(0, wrapAt)}\r\n${secret.slice(wrapAt)}`;
    case 'bearer':
      return `Bearer ${secret}`;
  }
}

/**
 * JSON string content (for a placeholder in JSON text) of a secret in an encoding that only a
 * JSON body can carry as such: its escapes are decoded by the parser.
 */
function jsonContent(secret: string, encoding: Encoding, wrapAt: number): string | undefined {
  switch (encoding) {
    case 'json_slash':
      return jsonEscape(secret).replace(/\//g, '\\/');
    case 'json_unicode':
      return [...secret].map((c) => (/[A-Za-z0-9]/.test(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('');
    case 'wrapped':
      return jsonEscape(`${secret.slice(0, wrapAt)}\r\n${secret.slice(wrapAt)}`);
    default:
      return undefined;
  }
}

/** The secrets a scenario's client holds and has been issued, named for messages. */
function secretsOf(sc: Scenario): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (sc.grant !== 'json_login' && sc.clientAuth === 'private_key_jwt') out.push(...keySecretsOf(CLIENT_KEYS[sc.keyIndex]!));
  else if (sc.grant !== 'json_login' && sc.clientAuth === 'tls_client_auth') out.push(...keySecretsOf(createPrivateKey(TLS_CLIENT.key)));
  else if (sc.grant !== 'json_login') out.push(['client secret', sc.clientSecret]);
  if (sc.grant === 'password' || sc.grant === 'json_login') out.push(['password', sc.password]);
  if (sc.grant === 'token_exchange') {
    out.push(['subject token', sc.subjectToken]);
    if (sc.actorToken !== undefined) out.push(['actor token', sc.actorToken]);
  }
  sc.issued.forEach((p, i) => {
    out.push([`access token #${i + 1}`, p.accessToken]);
    if (p.refreshToken !== undefined) out.push([`refresh token #${i + 1}`, p.refreshToken]);
  });
  return out;
}

/** The Basic credentials of a request, as sent: as secret as the client secret inside them. */
function basicCredentials(req: RecordedRequest): string | undefined {
  return /^Basic (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * The echoes of every secret, each in one encoding. Each body adds exactly one layer of its own
 * (JSON, form), so no secret is ever encoded twice: a double-encoded echo is beyond what any
 * redaction can be asked to recognise.
 */
function echoesFor(sc: Scenario, req: RecordedRequest, layer: 'text' | 'json' | 'form'): string[] {
  const secrets = echoedSecrets(sc, req);
  return secrets.map((s, i) => {
    const wanted = sc.encodings[i % sc.encodings.length]!;
    if (layer === 'json' && jsonContent(s, wanted, sc.wrapAt) !== undefined) return placeholder(i);
    // The form layer encodes once itself: only shapes that are not an encoding go in as they are.
    const encoding: Encoding =
      layer === 'form'
        ? wanted === 'bearer' || wanted === 'wrapped'
          ? wanted
          : 'raw'
        : layer === 'json' && wanted === 'json'
          ? 'raw'
          : wanted;
    return encode(s, encoding, sc.wrapAt);
  });
}

const placeholder = (i: number): string => `@@secret-${i}@@`;

/** Everything a failing answer echoes: the client's secrets, and the request's Basic credentials and client assertion. */
function echoedSecrets(sc: Scenario, req: RecordedRequest): string[] {
  const secrets = secretsOf(sc).map(([, s]) => s);
  const basic = basicCredentials(req);
  if (basic !== undefined) secrets.push(basic);
  const assertion = req.params['client_assertion'];
  if (typeof assertion === 'string') secrets.push(assertion);
  return secrets;
}

/** Puts the JSON-only encodings in place of their placeholders, in the JSON text itself. */
function fillPlaceholders(sc: Scenario, req: RecordedRequest, jsonText: string): string {
  const secrets = echoedSecrets(sc, req);
  return secrets.reduce((text, s, i) => {
    const content = jsonContent(s, sc.encodings[i % sc.encodings.length]!, sc.wrapAt);
    return content === undefined ? text : text.split(placeholder(i)).join(content);
  }, jsonText);
}

/** The failing answer: the scenario's body shape, echoing every secret the client knows. */
function failingAnswer(sc: Scenario, req: RecordedRequest, res: ServerResponse): void {
  const raw = echoedSecrets(sc, req).join(' ');
  const inJson = `${sc.padding}${echoesFor(sc, req, 'json').join(' | ')}`;
  const inText = `${sc.padding}${echoesFor(sc, req, 'text').join(' | ')}`;
  const inForm = `${sc.padding}${echoesFor(sc, req, 'form').join(' | ')}`;
  const jsonErrorUri = sc.withErrorUri ? { error_uri: `https://as.example/errors?ctx=${encodeURIComponent(raw)}` } : {};
  let body: string;
  switch (sc.body) {
    case 'oauth':
      body = JSON.stringify({ error: 'invalid_grant', error_description: `Invalid credentials: ${inJson}`, ...jsonErrorUri });
      break;
    case 'oauth_in_error_field':
      body = JSON.stringify({ error: `bad_request ${inJson}`, ...jsonErrorUri });
      break;
    case 'petrosoft':
      // The vendor's documented refresh 500, echoing what it was sent.
      body = JSON.stringify({
        success: false,
        data: [],
        message: `JWT missing parts. Total number of parts: 2 Token: ${inJson}`,
        http_code: sc.status,
        errors: [],
        total: null,
      });
      break;
    case 'html':
      body = `<!DOCTYPE html>\n<html><head><title>${sc.status} Error</title></head>\n<body><h1>Error</h1>\n<pre>${inText}</pre>\n</body></html>\n`;
      break;
    case 'text':
      body = `upstream rejected the request: ${inText}`;
      break;
    case 'form':
      // The form layer is the one encoding: the error_uri goes in raw, URLSearchParams encodes it.
      body = new URLSearchParams({
        error: 'invalid_grant',
        error_description: inForm,
        ...(sc.withErrorUri ? { error_uri: `https://as.example/errors?ctx=${raw}` } : {}),
      }).toString();
      break;
    case 'request_echo': {
      // A debugging proxy that reflects the whole request: headers (Basic credentials) and body.
      const sent = req.headers['content-type']?.includes('json') ? req.params : req.body;
      body = JSON.stringify({ message: `rejected ${sc.padding}`, request: { headers: req.headers, body: sent } });
      break;
    }
  }
  body = fillPlaceholders(sc, req, body);
  res.writeHead(sc.status, { 'content-type': sc.contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function grantFor(sc: Scenario): Grant {
  const base = server.url;
  if ((sc.clientAuth === 'private_key_jwt' || sc.clientAuth === 'tls_client_auth') && sc.grant !== 'json_login') {
    const clientAuth =
      sc.clientAuth === 'tls_client_auth'
        ? tlsClientAuth('app', TLS_CLIENT)
        : privateKeyJwt('app', keyInput(CLIENT_KEYS[sc.keyIndex]!, sc.keyForm) as string);
    if (sc.grant === 'password') return passwordGrant({ tokenUrl: `${base}/token`, clientId: 'app', clientAuth, username: 'alice', password: sc.password });
    if (sc.grant === 'client_credentials') return clientCredentialsGrant({ tokenUrl: `${base}/token`, clientId: 'app', clientAuth });
    if (sc.grant === 'token_exchange') return exchangeGrantFor(sc, { clientAuth });
    return authorizationCodeGrant({ authorizeUrl: `${base}/authorize`, tokenUrl: `${base}/token`, clientId: 'app', clientAuth, redirectUri: 'http://localhost/callback' });
  }
  // The secretless methods took the branch above.
  const secretAuth = sc.clientAuth as Exclude<Scenario['clientAuth'], 'private_key_jwt' | 'tls_client_auth'>;
  switch (sc.grant) {
    case 'password':
      return passwordGrant({
        tokenUrl: `${base}/token`,
        clientId: 'app',
        clientSecret: sc.clientSecret,
        clientAuth: secretAuth,
        username: 'alice',
        password: sc.password,
      });
    case 'client_credentials':
      return clientCredentialsGrant({
        tokenUrl: `${base}/token`,
        clientId: 'app',
        clientSecret: sc.clientSecret,
        clientAuth: secretAuth,
      });
    case 'token_exchange':
      return exchangeGrantFor(sc, { clientSecret: sc.clientSecret, clientAuth: secretAuth });
    case 'json_login':
      return jsonLoginGrant({ tokenUrl: `${base}/v1/auth/token`, refreshUrl: `${base}/v1/auth/refresh_token`, username: 'alice', password: sc.password });
    case 'authorization_code':
      return authorizationCodeGrant({
        authorizeUrl: `${base}/authorize`,
        tokenUrl: `${base}/token`,
        clientId: 'app',
        clientSecret: sc.clientSecret,
        clientAuth: secretAuth,
        redirectUri: 'http://localhost/callback',
      });
  }
}

function exchangeGrantFor(sc: Scenario, auth: Pick<TokenExchangeGrantOptions, 'clientSecret' | 'clientAuth'>): Grant {
  return tokenExchangeGrant({
    tokenUrl: `${server.url}/token`,
    clientId: 'app',
    ...auth,
    ...(sc.subjectFromFunction ? { subject: 'alice', subjectToken: () => Promise.resolve(sc.subjectToken) } : { subjectToken: sc.subjectToken }),
    ...(sc.actorToken === undefined ? {} : { actorToken: sc.actorToken, actorTokenType: 'urn:ietf:params:oauth:token-type:access_token' }),
    audience: 'billing',
  });
}

const CLIENT_OPTIONS: Partial<TokenClientOptions> = { timeoutMs: 3000, retry: { retries: 0 } };

const ENDPOINT_CODES: string[] = [ErrorCode.OAUTH, ErrorCode.HTTP_STATUS, ErrorCode.INVALID_RESPONSE];

interface Run {
  /** Every text a log could show: error, cause, event and TokenSet renderings. */
  renderings: Array<[string, string]>;
  /** The secrets that must not appear in them, named. */
  secrets: Array<[string, string]>;
}

/**
 * Runs one scenario: the client gets tokens (and rotates them) successfully, then its token is
 * invalidated and the server answers the refresh and the new login with an echoing error.
 */
async function runScenario(sc: Scenario): Promise<Run> {
  let round = 0;
  let failing = false;
  const basics = new Set<string>();
  const assertions = new Set<string>();
  server.handler = (req, res) => {
    const basic = basicCredentials(req);
    if (basic !== undefined) basics.add(basic);
    const assertion = req.params['client_assertion'];
    if (typeof assertion === 'string') assertions.add(assertion);
    if (failing) return failingAnswer(sc, req, res);
    const pair = sc.issued[Math.min(round++, sc.issued.length - 1)]!;
    json(res, 200, { access_token: pair.accessToken, token_type: 'bearer', expires_in: 3600, refresh_token: pair.refreshToken });
  };
  const client: TokenClient = createTokenClient({ grant: grantFor(sc), ...CLIENT_OPTIONS });
  const events: unknown[] = [];
  const refreshErrors: unknown[] = [];
  client.on('token', (e) => events.push(e));
  client.on('token_request', (e) => events.push(e));
  client.on('refresh_error', (e) => {
    events.push(e);
    refreshErrors.push(e.error);
  });
  const renderings: Array<[string, string]> = [];
  try {
    for (let i = 0; i < sc.issued.length; i++) {
      if (i === 0 && sc.grant === 'authorization_code') {
        await client.exchangeCode({ code: 'auth-code-1', codeVerifier: 'verifier-verifier-verifier-1' });
      } else {
        if (i > 0) await client.invalidate();
        await client.getAccessToken();
      }
      const tokenSet = await client.getTokenSet();
      expect(tokenSet.accessToken).toBe(sc.issued[i]!.accessToken);
      renderings.push(...valueRenderings(tokenSet, `TokenSet #${i + 1}`), [`TokenSet #${i + 1} String()`, String(tokenSet)]);
    }

    failing = true;
    await client.invalidate();
    const outcome = await client.getAccessToken().then(
      (token) => ({ ok: true as const, token }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (outcome.ok) throw new Error(`the failing server handed out a token: ${outcome.token}`);
    const error = outcome.error;
    expect(isProdoAuthError(error)).toBe(true);
    expect(error).toBeInstanceOf(ProdoAuthError);
    const { code } = error as ProdoAuthError;
    if (sc.grant === 'authorization_code') {
      // No credentials to log in again: the refresh failure is the cause.
      expect(code).toBe(ErrorCode.REAUTHENTICATION_REQUIRED);
      expect(isProdoAuthError((error as Error).cause)).toBe(true);
      expect(ENDPOINT_CODES).toContain(((error as Error).cause as ProdoAuthError).code);
    } else {
      expect(ENDPOINT_CODES).toContain(code);
    }
    expect(refreshErrors.length).toBeGreaterThan(0);
    expect(refreshErrors).toContain(error);

    renderings.push(...errorRenderings(error, 'thrown error'));
    refreshErrors.forEach((e, i) => renderings.push(...errorRenderings(e, `refresh_error #${i + 1} error`)));
    events.forEach((e, i) => renderings.push(...valueRenderings(e, `event #${i + 1}`)));
    const secrets = secretsOf(sc);
    for (const b of basics) secrets.push(['Basic credentials', b]);
    for (const a of assertions) secrets.push(['client assertion (its signature)', assertionSignature(a)]);
    return { renderings, secrets };
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

describe('redaction, whatever the token endpoint echoes', () => {
  it('no error, refresh_error event or TokenSet rendering contains a secret or token, in any encoding', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        const { renderings, secrets } = await runScenario(sc);
        expectNoLeak(renderings, secrets);
      }),
      // Bounded in time: on a loaded machine (CI runs this suite on several Node majors at once)
      // fewer scenarios run, and the property still fails on any leak it found, shrunk or not.
      { numRuns: 60, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false },
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Regression tests, one per leak; each pins one shape the property above also covers.
// ---------------------------------------------------------------------------------------------

describe('redaction regressions', () => {
  const PASSWORD = 'Zx7Qv-pass-WORD-0123';

  async function failureFor(password: string, answer: (res: ServerResponse) => void): Promise<unknown> {
    regressionServer.handler = (_req, res) => answer(res);
    const client = createTokenClient({
      grant: passwordGrant({ tokenUrl: `${regressionServer.url}/token`, clientId: 'app', username: 'alice', password }),
      ...CLIENT_OPTIONS,
    });
    try {
      return await client.getAccessToken().then(
        () => {
          throw new Error('expected the token request to fail');
        },
        (error: unknown) => error,
      );
    } finally {
      await client.close();
    }
  }

  it('a JSON error served as text/html that escapes every character of the password (\\u002d) is redacted', async () => {
    const password = 'Zx7Qv-pass_WORD-0123';
    const escaped = [...password].map((c) => (/[A-Za-z0-9]/.test(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('');
    const error = await failureFor(password, (res) => {
      const body = `{"error":"bad_request ${escaped}"}`;
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    expect(error).toMatchObject({ code: ErrorCode.HTTP_STATUS });
    expectNoLeak(errorRenderings(error, 'error'), [['password', password]]);
    expect((error as { bodyExcerpt?: string }).bodyExcerpt).not.toContain(escaped);
    expect((error as { bodyExcerpt?: string }).bodyExcerpt).toContain('[REDACTED]');
  });

  it('the Petrosoft refresh 500 that echoes the refresh token is redacted (json login)', async () => {
    const refreshToken = 'opaque-Rt-7f3c9a1b2d4e';
    let n = 0;
    regressionServer.handler = (_req, res) => {
      n += 1;
      if (n === 1) json(res, 200, { access_token: 'opaque-At-5e6f7a8b9c0d', expires_in: 3600, refresh_token: refreshToken });
      else json(res, 500, { success: false, data: [], message: `JWT missing parts. Total number of parts: 2 Token: ${refreshToken}`, http_code: 500 });
    };
    const client = createTokenClient({
      grant: jsonLoginGrant({ tokenUrl: `${regressionServer.url}/login`, refreshUrl: `${regressionServer.url}/refresh`, username: 'alice', password: PASSWORD }),
      ...CLIENT_OPTIONS,
    });
    try {
      await client.getAccessToken();
      await client.invalidate();
      const error = await client.getAccessToken().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as ProdoAuthError).code).toBe(ErrorCode.HTTP_STATUS);
      expect((error as Error).message).toContain('JWT missing parts');
      expectNoLeak(errorRenderings(error, 'error'), [['refresh token', refreshToken], ['password', PASSWORD]]);
    } finally {
      await client.close();
    }
  });

  it('a raw secret in a body labelled as a form (decoded: "+" becomes a space) is redacted', async () => {
    const password = 'Zx7+Qv/pass=WORD&0123';
    const error = await failureFor(password, (res) => {
      const body = `<html><body>login failed for password ${password}</body></html>`;
      res.writeHead(400, { 'content-type': 'application/x-www-form-urlencoded' }).end(body);
    });
    expect((error as ProdoAuthError).code).toBe(ErrorCode.HTTP_STATUS);
    expectNoLeak(errorRenderings(error, 'error'), [['password', password]]);
    const text = inspect(error, { depth: 5 });
    expect(text).not.toContain('Zx7 Qv/pass');
  });

  it('an error_uri that echoes a secret is redacted in OAuthError.errorUri', async () => {
    const error = await failureFor(PASSWORD, (res) =>
      json(res, 400, { error: 'invalid_grant', error_uri: `https://as.example/help?password=${encodeURIComponent(PASSWORD)}` }),
    );
    expect((error as ProdoAuthError).code).toBe(ErrorCode.OAUTH);
    expectNoLeak(errorRenderings(error, 'error'), [['password', PASSWORD]]);
  });

  // Fails until src/token-response.ts excerpt() redacts before it cuts to 200 characters.
  it('a secret that straddles the 200-character excerpt cut does not leak its beginning', async () => {
    for (const offset of [190, 195, 198]) {
      const error = await failureFor(PASSWORD, (res) =>
        json(res, 400, { error: 'invalid_grant', error_description: `${'x'.repeat(offset)}${PASSWORD}` }),
      );
      expect((error as ProdoAuthError).code).toBe(ErrorCode.OAUTH);
      // The same for a vendor message and for bodyExcerpt.
      const vendor = await failureFor(PASSWORD, (res) => json(res, 500, { success: false, message: `${'y'.repeat(offset)}${PASSWORD}` }));
      expect((vendor as ProdoAuthError).code).toBe(ErrorCode.HTTP_STATUS);
      const renderings = [...errorRenderings(error, `error (offset ${offset})`), ...errorRenderings(vendor, `vendor error (offset ${offset})`)];
      expectNoLeak(renderings, [['password', PASSWORD]]);
      // Whatever marks the cut: not even the password's first four characters show.
      for (const [where, text] of renderings) expect(text, where).not.toContain(PASSWORD.slice(0, MIN_PREFIX));
    }
  });

  // Fails until src/token-response.ts excerpt() redacts before it collapses whitespace.
  it('a password with a run of spaces is redacted before the excerpt collapses whitespace', async () => {
    const spaced = 'Zx7Qv  pass  WORD ';
    const error = await failureFor(spaced, (res) =>
      send(res, 401, 'text/html', `<html><body>Login failed for password ${spaced}</body></html>`),
    );
    expect((error as ProdoAuthError).code).toBe(ErrorCode.HTTP_STATUS);
    expectNoLeak(errorRenderings(error, 'error'), [['password', spaced]]);
    const oauth = await failureFor(spaced, (res) => json(res, 400, { error: 'invalid_grant', error_description: `bad ${spaced}` }));
    expectNoLeak(errorRenderings(oauth, 'oauth error'), [['password', spaced]]);
  });

  it('a { success: false, message } body that echoes the refresh token with escaped slashes is redacted in bodyExcerpt too', async () => {
    const refreshToken = 'opaque/Rt/7f3c9a1b2d4e';
    let n = 0;
    regressionServer.handler = (_req, res) => {
      n += 1;
      if (n === 1) return json(res, 200, { access_token: 'opaque-At-5e6f7a8b9c0d', expires_in: 3600, refresh_token: refreshToken });
      // PHP's json_encode: '/' written as '\/'.
      send(res, 500, 'application/json', `{"success":false,"message":"Token: ${refreshToken.replace(/\//g, '\\/')}"}`);
    };
    const client = createTokenClient({
      grant: jsonLoginGrant({ tokenUrl: `${regressionServer.url}/login`, refreshUrl: `${regressionServer.url}/refresh`, username: 'alice', password: PASSWORD }),
      ...CLIENT_OPTIONS,
    });
    try {
      await client.getAccessToken();
      await client.invalidate();
      const error = await client.getAccessToken().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as ProdoAuthError).code).toBe(ErrorCode.HTTP_STATUS);
      expect((error as { bodyExcerpt?: string }).bodyExcerpt).toContain('[REDACTED]');
      expectNoLeak(errorRenderings(error, 'error'), [['refresh token', refreshToken]]);
      expect(inspect(error, { depth: 10 })).not.toContain('7f3c9a1b2d4e');
    } finally {
      await client.close();
    }
  });

  for (const [encoding, body] of [
    ['\\uXXXX escapes in a JSON body (Python, Go)', (p: string) => `{"message":"bad ${[...p].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`],
    ['HTML entities in an HTML page', (p: string) => `<html><body>bad password ${p.replace(/&/g, '&amp;').replace(/=/g, '&#61;').replace(/\//g, '&#x2F;')}</body></html>`],
    ['lower-case percent-encoding', (p: string) => `upstream said: ${encodeURIComponent(p).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
    ['Base64', (p: string) => `echo: ${Buffer.from(p).toString('base64')}`],
    ['base64url without padding', (p: string) => `echo: ${Buffer.from(p).toString('base64url')}`],
    ['a line break inside it', (p: string) => `upstream said:\r\n${p.slice(0, 6)}\r\n${p.slice(6)}\r\n`],
  ] as const) {
    it(`a password echoed with ${encoding} is redacted`, async () => {
      const password = 'Zx7+Qv/pass=WORD&0123';
      const type = encoding.includes('JSON') ? 'application/json' : encoding.includes('HTML') ? 'text/html' : 'text/plain';
      const error = await failureFor(password, (res) => send(res, 400, type, body(password)));
      expect([ErrorCode.OAUTH, ErrorCode.HTTP_STATUS]).toContain((error as ProdoAuthError).code);
      expectNoLeak(errorRenderings(error, 'error'), [['password', password]]);
      const text = inspect(error, { depth: 10 });
      // Whatever escapes are left around them, neither the first characters nor a Base64 run show.
      expect(text).not.toContain(password.slice(0, 6));
      expect(text).not.toMatch(/cGFzcz1XT1JE|WORD|u005a/);
    });
  }

  it('Basic credentials split by a line break are redacted whole, though the secret inside them matches first', () => {
    // The client secret's own Base64 middle occurs inside the Basic credential: matched first in
    // the raw text, it broke the credential up so the line-break pass no longer saw it whole.
    const basic = Buffer.from('app:aaaav5xn').toString('base64');
    const secrets = new SecretSet().add('aaaav5xn', basic);
    const wrapped = `<pre>${basic.slice(0, 6)}\n${basic.slice(6)}</pre>`;
    expect(secrets.redact(wrapped)).toBe('<pre>[REDACTED]</pre>');
  });

  it('a secret holding a backslash and an r, split by a line break, is redacted', () => {
    // A literal `\r` in the secret was taken for a JSON-escaped line break and stripped with the real one.
    const secrets = new SecretSet().add('\\raaaaaaus');
    expect(secrets.redact('{"error":"bad \\r\naaaaaaus"}')).toBe('{"error":"bad [REDACTED]"}');
  });

  it('the leak detector itself finds raw, encoded, collapsed and truncated secrets', () => {
    const secret = 'Ab1 &"+%  cd9';
    for (const text of [
      `x ${secret} y`,
      `x ${encodeURIComponent(secret)} y`,
      `x ${formEncode(secret)} y`,
      `x ${jsonEscape(secret)} y`,
      `x ${squash(secret)} y`,
      `x ${secret.slice(0, 5)}... y`,
    ]) {
      expect(leakIn(text, secret)).toBeDefined();
    }
    expect(leakIn('x [REDACTED] y... Ab1', secret)).toBeUndefined();
  });
});

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
