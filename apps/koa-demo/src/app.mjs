// A sample Koa app for @prodo-auth/koa: service mode (the app's own token, on /service)
// and user mode (a browser sign-in, on /profile), side by side. With no PRODO_AUTH_* variable it
// starts two Procurios simulators from @prodo-auth/mock-server and points itself at them, so it
// runs with no configuration. Everything listens on 127.0.0.1.
// Tokens are never shown: `#1a2b3c4d` is the start of a token's sha256.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import Koa from 'koa';
import { configFromEnv, procurios } from '@prodo-auth/core';
import { prodoAuth, requireLogin } from '@prodo-auth/koa';
import { startMockServer } from '@prodo-auth/mock-server';

/** The sample API path: joined onto the preset's apiUrl (the simulator's `/l/module_api`). */
const MOCK_API_PATH = '/object';

const fingerprint = (token) => `#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const page = (title, body) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body><h1>${escapeHtml(title)}</h1>${body}<p><a href="/">Home</a></p></body></html>`;

/**
 * The two prodoAuth() configurations. From PRODO_AUTH_* when one is set: `prodoAuth()` reads
 * them, and whichever mode they describe is the one the app offers. Otherwise two simulators:
 * one for service mode, whose tokens live `tokenSeconds` so the refresh shows, and one with the
 * authorize page (and its consent form when `consent`) for the sign-in.
 */
async function configure({ url, consent, tokenSeconds }) {
  if (Object.keys(process.env).some((name) => name.startsWith('PRODO_AUTH_'))) {
    // One ConfigError naming every missing or bad variable, thrown here, at start.
    const config = configFromEnv();
    const middleware = prodoAuth(config);
    const apiPath = process.env.DEMO_API_PATH ?? '/';
    return config.mode === 'user'
      ? { user: middleware, apiPath, mocks: [] }
      : { service: middleware, apiPath, mocks: [] };
  }
  const serviceMock = await startMockServer({ vendor: 'procurios', accessTokenTtlSeconds: tokenSeconds });
  const userMock = await startMockServer({ vendor: 'procurios', requireConsent: consent });
  const { clientId, clientSecret, scope } = serviceMock.credentials;
  const service = prodoAuth({
    ...procurios.clientCredentials({ tokenUrl: serviceMock.tokenUrl, apiUrl: serviceMock.apiUrl, clientId, clientSecret, scope }),
    // Refresh in the last third of the token's life: a few reloads show it reused, then refreshed.
    refreshSkewSeconds: tokenSeconds / 3,
  });
  // The simulator accepts a loopback callback on any port, so the app's own port is enough.
  const redirectUri = `${url}/auth/callback`;
  const user = prodoAuth({
    ...procurios.authorizationCode({ authorizeUrl: userMock.authorizeUrl, tokenUrl: userMock.tokenUrl, apiUrl: userMock.apiUrl, clientId, clientSecret, scope, redirectUri }),
    redirectUri,
    // A demo's secret, new on every start (sessions end with the process). Yours comes from the environment.
    sessionSecret: randomBytes(32).toString('base64url'),
  });
  return { service, user, apiPath: MOCK_API_PATH, mocks: [serviceMock, userMock], serviceMock };
}

/** The API's answer to `auth.fetch(apiPath)`, and who it says the caller is (the simulator echoes the token's subject). */
async function callApi(auth, apiPath) {
  const res = await auth.fetch(apiPath);
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as it came.
  }
  return { status: res.status, body, name: body?.data?.subject ?? 'someone' };
}

/** A 404 page for a mode the PRODO_AUTH_* configuration does not describe. */
const notConfigured = (ctx, title, needs) => {
  ctx.status = 404;
  ctx.type = 'html';
  ctx.body = page(title, `<p>Not configured: this mode needs ${needs}.</p>`);
};

/** The Koa app: every page, and where each prodoAuth() middleware runs. */
function buildApp({ service, user, apiPath, serviceMock }) {
  const app = new Koa();
  // Pages show who is signed in: no browser or proxy may keep them (the back button after sign-out).
  app.use((ctx, next) => {
    ctx.set('cache-control', 'no-store');
    return next();
  });
  // User mode on every request: the routes under /auth, and ctx.state.prodoAuth for the signed-in
  // user. It also answers prodo-auth errors from the pages below (401 login_required, 502
  // upstream_auth_unavailable), as a page or JSON, nothing leaked.
  if (user !== undefined) app.use(user);
  // Service mode on /service only: there ctx.state.prodoAuth is the app's own token client.
  if (service !== undefined) app.use((ctx, next) => (ctx.path === '/service' ? service(ctx, next) : next()));

  async function home(ctx) {
    const auth = ctx.state.prodoAuth;
    const signedIn = auth?.isAuthenticated === true;
    const who = signedIn ? (await callApi(auth, apiPath)).name : undefined;
    const userMode =
      user === undefined
        ? 'User mode is not configured (it needs an authorization code grant).'
        : signedIn
          ? '<a id="profile" href="/profile">Your profile</a>: the app calls the API as you.'
          : 'User mode: <a id="sign-in" href="/auth/login?returnTo=/profile">Sign in</a>, then the profile calls the API as you.';
    ctx.type = 'html';
    ctx.body = page(
      'prodo-auth Koa demo',
      `<p id="status">${signedIn ? `signed in as <strong>${escapeHtml(who)}</strong>` : 'not signed in'}</p>` +
        '<ul><li><a id="service" href="/service">Service mode</a>: the app calls the API with its own token.</li>' +
        `<li>${userMode}</li></ul>`,
    );
  }

  // Service mode: one token for the whole app, reused until its refresh window, never shown.
  let last;
  let loads = 0;
  async function servicePage(ctx) {
    const auth = ctx.state.prodoAuth;
    const api = await callApi(auth, apiPath);
    const current = fingerprint(await auth.getAccessToken());
    const news = last === undefined ? 'the first token of this run' : last === current ? 'reused: the same token as the last load' : `refreshed: it replaced ${last}`;
    last = current;
    loads++;
    const requests = serviceMock === undefined ? '' : ` Token requests the auth server received: <span id="token-requests">${serviceMock.stats.tokenRequests}</span>.`;
    ctx.type = 'html';
    ctx.body = page(
      'Service mode',
      `<p>API call through <code>ctx.state.prodoAuth.fetch('${escapeHtml(apiPath)}')</code>: HTTP <span id="api-status">${api.status}</span></p>` +
        `<p>Token <code id="token">${current}</code>: <span id="token-news">${news}</span>.</p>` +
        `<p>Page loads: <span id="loads">${loads}</span>.${requests}</p>` +
        '<p>Reload: the token is reused; near its expiry a background refresh replaces it.</p>',
    );
  }

  async function profilePage(ctx) {
    const me = await callApi(ctx.state.prodoAuth, apiPath);
    ctx.type = 'html';
    ctx.body = page(
      'Profile',
      `<p id="status">signed in as <strong id="user">${escapeHtml(me.name)}</strong></p>` +
        `<p>The API, called as you: HTTP ${me.status}</p><pre>${escapeHtml(JSON.stringify(me.body, null, 2))}</pre>` +
        '<form method="post" action="/auth/logout"><button id="sign-out">Sign out</button></form>',
    );
  }

  // Three GET pages need no router.
  const loginRequired = requireLogin();
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/') return home(ctx);
    if (ctx.path === '/service') return service === undefined ? notConfigured(ctx, 'Service mode', 'a service grant, such as client credentials') : servicePage(ctx);
    // User mode: requireLogin() sends the browser to the sign-in first, and back here after it.
    if (ctx.path === '/profile') return user === undefined ? notConfigured(ctx, 'Profile', 'an authorization code grant') : loginRequired(ctx, () => profilePage(ctx));
    return next();
  });
  return app;
}

/**
 * Starts the demo on 127.0.0.1 (and, without PRODO_AUTH_*, its two simulators).
 *
 * @param options.port - 0 picks a free port
 * @param options.consent - the authorize page shows its consent form
 * @param options.tokenSeconds - lifetime of the service-mode simulator's tokens
 * @returns the URL to open, and close() to stop everything
 */
export async function startDemo({ port = 0, consent = false, tokenSeconds = 30 } = {}) {
  // Listen first: the sign-in's redirect URI needs the port, and port 0 is known only now.
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}`;
  let setup;
  try {
    setup = await configure({ url, consent, tokenSeconds });
  } catch (error) {
    server.close();
    throw error;
  }
  server.on('request', buildApp(setup).callback());
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
      await Promise.all([setup.service?.close(), setup.user?.close(), ...setup.mocks.map((m) => m.close())]);
    },
  };
}
