/**
 * A real `oidc-provider` authorization server on 127.0.0.1 for interoperability tests, with a
 * scripted login (no browser) and a record of every request its token endpoint received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { default as Provider, ProviderContext } from 'oidc-provider';

/** The user the scripted login signs in. */
export const ACCOUNT_ID = 'alice';
export const API_SCOPE = 'api:read';

/** The registered clients, by role. */
export const CLIENTS = {
  /** client_credentials, authenticating with HTTP Basic. */
  basic: { clientId: 'svc-basic', clientSecret: 'svc-basic secret: +%/&=~' },
  /** client_credentials, authenticating with client_id and client_secret in the body. */
  post: { clientId: 'svc-post', clientSecret: 'svc-post-secret' },
  /** authorization_code + PKCE, rotating refresh tokens, one-hour access tokens. */
  web: { clientId: 'web-app', clientSecret: 'web-app-secret' },
  /** As `web`, but its access tokens live {@link SHORT_ACCESS_TOKEN_TTL_SECONDS} seconds. */
  rotating: { clientId: 'rotating-app', clientSecret: 'rotating-app-secret' },
  /** As `web`, but the provider re-issues the same refresh token instead of rotating it. */
  steady: { clientId: 'steady-app', clientSecret: 'steady-app-secret' },
} as const;

export const SHORT_ACCESS_TOKEN_TTL_SECONDS = 2;
export const CLIENT_CREDENTIALS_TTL_SECONDS = 600;

/** One request the token endpoint received, as the provider parsed it. */
export interface TokenRequestRecord {
  clientId: string | undefined;
  grantType: string | undefined;
  /** The refresh token sent, for the refresh_token grant. */
  refreshToken: string | undefined;
  /** The names of the body parameters (values are secrets). */
  bodyParams: string[];
  /** Whether the client authenticated with an `Authorization: Basic` header. */
  basicAuth: boolean;
  status: number;
  /** The OAuth `error` of a failed request. */
  error: string | undefined;
}

export interface OidcTestServer {
  issuer: string;
  provider: Provider;
  authorizeUrl: string;
  tokenUrl: string;
  introspectionUrl: string;
  userinfoUrl: string;
  /** The redirect URI every code-flow client registered (served by this server, never followed). */
  redirectUri: string;
  tokenRequests: TokenRequestRecord[];
  /** The authorization request parameters the provider handed to each login interaction. */
  interactions: Array<Record<string, unknown>>;
  /** Errors the provider reported as its own fault (should stay empty). */
  serverErrors: unknown[];
  /** Token requests of one client, optionally of one grant type. */
  tokenRequestsOf(clientId: string, grantType?: string): TokenRequestRecord[];
  /**
   * Plays the browser: opens the authorization URL, signs {@link ACCOUNT_ID} in and consents
   * through the interaction route, follows every redirect and returns the one to the redirect URI.
   */
  login(authorizationUrl: string): Promise<URL>;
  close(): Promise<void>;
}

/** oidc-provider warns, once, about Node 20 and about its in-memory store: both expected here. */
const EXPECTED_WARNINGS = [/^oidc-provider WARNING: Unsupported runtime/, /^oidc-provider WARNING: a quick start development-only in-memory adapter/];

async function withoutExpectedWarnings<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!EXPECTED_WARNINGS.some((re) => re.test(String(args[0])))) warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

/** What a test suite adds to the provider's configuration (see oidc-provider-standards.ts). */
export interface OidcProviderExtension {
  /** More registered clients. */
  clients?: (issuer: string) => Array<Record<string, unknown>>;
  /** Merged into `features`. */
  features?: Record<string, unknown>;
  /** Last word on the configuration, and on the provider once it exists (a grant handler). */
  configure?: (config: Record<string, unknown>) => void;
  setup?: (provider: Provider) => void;
}

/** Starts oidc-provider on 127.0.0.1 with a random port. */
export async function startOidcProvider(extension: OidcProviderExtension = {}): Promise<OidcTestServer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redirectUri = `${issuer}/callback`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

  const codeFlowClient = (c: { clientId: string; clientSecret: string }): Record<string, unknown> => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_basic',
  });

  const provider = await withoutExpectedWarnings(async () => {
    const { default: Provider } = await import('oidc-provider');
    const config: Record<string, unknown> = {
      clients: [
        {
          client_id: CLIENTS.basic.clientId,
          client_secret: CLIENTS.basic.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: API_SCOPE,
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: CLIENTS.post.clientId,
          client_secret: CLIENTS.post.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: API_SCOPE,
          token_endpoint_auth_method: 'client_secret_post',
        },
        codeFlowClient(CLIENTS.web),
        codeFlowClient(CLIENTS.rotating),
        codeFlowClient(CLIENTS.steady),
        ...(extension.clients?.(issuer) ?? []),
      ],
      jwks: { keys: [signingKey] },
      cookies: { keys: ['interop-test-cookie-key'] },
      scopes: ['openid', 'offline_access', API_SCOPE],
      claims: { openid: ['sub'] },
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: () => true },
        ...extension.features,
      },
      // PKCE on every authorization request, public client or not.
      pkce: { required: () => true },
      // As the default: a refresh token when offline_access was granted (only with prompt=consent).
      issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }, code: { scopes: Set<string> }) =>
        client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      // Rotate on every refresh (the default rotates a confidential client's token only late in its
      // life), except for the steady client, which keeps getting the same refresh token back.
      rotateRefreshToken: (ctx: { oidc: { client: { clientId: string } } }) => ctx.oidc.client.clientId !== CLIENTS.steady.clientId,
      ttl: {
        AccessToken: (_ctx: unknown, _token: unknown, client: { clientId: string }) =>
          client.clientId === CLIENTS.rotating.clientId ? SHORT_ACCESS_TOKEN_TTL_SECONDS : 3600,
        AuthorizationCode: 60,
        ClientCredentials: CLIENT_CREDENTIALS_TTL_SECONDS,
        Grant: 3600,
        IdToken: 3600,
        Interaction: 600,
        RefreshToken: 3600,
        Session: 3600,
      },
    };
    extension.configure?.(config);
    const created = new Provider(issuer, config);
    extension.setup?.(created);
    return created;
  }).catch(async (error: unknown) => {
    await close();
    throw error;
  });

  const tokenRequests: TokenRequestRecord[] = [];
  const interactions: Array<Record<string, unknown>> = [];
  const serverErrors: unknown[] = [];
  provider.on('server_error', (_ctx: never, error: never) => serverErrors.push(error));

  // Runs around the provider's router: after `next()` the body has been parsed into ctx.oidc.
  provider.use(async (ctx: ProviderContext, next: () => Promise<void>) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== '/token') return;
    const body = ctx.oidc?.body ?? {};
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    tokenRequests.push({
      clientId: ctx.oidc?.client?.clientId ?? str(body['client_id']),
      grantType: str(body['grant_type']),
      refreshToken: str(body['refresh_token']),
      bodyParams: Object.keys(body).sort(),
      basicAuth: /^basic /i.test(ctx.get('authorization')),
      status: ctx.status,
      error: str((ctx.body as Record<string, unknown> | null | undefined)?.['error']),
    });
  });

  const providerCallback = provider.callback();
  handler = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (req.method === 'GET' && path.startsWith('/interaction/')) {
      finishInteraction(req, res).catch((error: unknown) => {
        serverErrors.push(error);
        res.statusCode = 500;
        res.end(String(error));
      });
    } else if (req.method === 'GET' && path === '/callback') {
      res.end('signed in');
    } else {
      providerCallback(req, res);
    }
  };

  /** The login and consent pages, answered at once: alice signs in and grants what was asked. */
  async function finishInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    interactions.push(details.params);
    const clientId = String(details.params['client_id']);
    const grant =
      (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ??
      new provider.Grant({ accountId: ACCOUNT_ID, clientId });
    grant.addOIDCScope(String(details.params['scope'] ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: ACCOUNT_ID }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  async function login(authorizationUrl: string): Promise<URL> {
    const jar = new Map<string, string>();
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== issuer) throw new Error(`login left the test server for ${url.origin}`);
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(url, {
        redirect: 'manual',
        headers: cookie ? { cookie } : {},
        signal: AbortSignal.timeout(5000),
      });
      for (const setCookie of res.headers.getSetCookie()) {
        const pair = setCookie.split(';', 1)[0] ?? '';
        const eq = pair.indexOf('=');
        if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      const location = res.headers.get('location');
      const text = await res.text();
      if (res.status < 300 || res.status >= 400 || location === null) {
        throw new Error(`login stopped at ${url.pathname} with HTTP ${res.status}: ${text.slice(0, 300)}`);
      }
      url = new URL(location, url);
      if (`${url.origin}${url.pathname}` === redirectUri) return url;
    }
    throw new Error('login did not reach the redirect URI within 10 redirects');
  }

  return {
    issuer,
    provider,
    authorizeUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    introspectionUrl: `${issuer}/token/introspection`,
    userinfoUrl: `${issuer}/me`,
    redirectUri,
    tokenRequests,
    interactions,
    serverErrors,
    tokenRequestsOf: (clientId, grantType) =>
      tokenRequests.filter((r) => r.clientId === clientId && (grantType === undefined || r.grantType === grantType)),
    login,
    close,
  };
}
