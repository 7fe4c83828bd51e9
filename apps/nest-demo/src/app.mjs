// A sample Nest app for @prodo-auth/nestjs: service mode (the app's own token, on /service, through
// the HttpService the module injects) and user mode (a browser sign-in, on /profile, behind
// ProdoAuthGuard), side by side. With no PRODO_AUTH_* variable it starts two Procurios simulators
// from @prodo-auth/mock-server and points itself at them, so it runs with no configuration.
// Everything listens on 127.0.0.1. Tokens are never shown: `#1a2b3c4d` is the start of a token's sha256.
//
// Plain JavaScript, run by `node` as it is: Nest's decorators are applied as functions (the
// `decorate` helper below does what `@Get('service')` does in TypeScript), and every injection
// names its token, as it must without emitDecoratorMetadata.
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Controller, Get, Inject, Module, Res, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { firstValueFrom } from 'rxjs';
import { configFromEnv, procurios } from '@prodo-auth/core';
import { getHttpServiceToken, getTokenClientToken, ProdoAuth, ProdoAuthGuard, ProdoAuthModule } from '@prodo-auth/nestjs';
import { startMockServer } from '@prodo-auth/mock-server';

/** The sample API path: joined onto the preset's apiUrl (the simulator's `/l/module_api`). */
const MOCK_API_PATH = '/object';
/** The user-mode client's name when both run; the service one is the default client. */
const USER = 'user';

const fingerprint = (token) => `#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
const escapeHtml = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const page = (title, body) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body><h1>${escapeHtml(title)}</h1>${body}<p><a href="/">Home</a></p></body></html>`;

/** `@Get(path)` and the parameter decorators of one method, as TypeScript would apply them. */
function decorate(target, method, methodDecorators, parameterDecorators = []) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  parameterDecorators.forEach((d, index) => d(target.prototype, method, index));
  for (const d of methodDecorators) d(target.prototype, method, descriptor);
}

/**
 * The ProdoAuthModule imports. From PRODO_AUTH_* when one is set: `forRoot()` reads them, and
 * whichever mode they describe is the one the app offers. Otherwise two simulators: one for
 * service mode, whose tokens live `tokenSeconds` so the refresh shows, and one with the authorize
 * page (and its consent form when `consent`) for the sign-in.
 */
async function configure({ url, consent, tokenSeconds }) {
  if (Object.keys(process.env).some((name) => name.startsWith('PRODO_AUTH_'))) {
    // One ConfigError naming every missing or bad variable, thrown here, at start.
    const config = configFromEnv();
    const apiPath = process.env.DEMO_API_PATH ?? '/';
    // The config as it is (a copy would lose its non-enumerable secrets): the default client.
    const imports = [ProdoAuthModule.forRoot(config)];
    return config.mode === 'user' ? { imports, user: 'default', apiPath, mocks: [] } : { imports, service: true, apiPath, mocks: [] };
  }
  const serviceMock = await startMockServer({ vendor: 'procurios', accessTokenTtlSeconds: tokenSeconds });
  const userMock = await startMockServer({ vendor: 'procurios', requireConsent: consent });
  const { clientId, clientSecret, scope } = serviceMock.credentials;
  // The simulator accepts a loopback callback on any port, so the app's own port is enough.
  const redirectUri = `${url}/auth/callback`;
  const imports = [
    ProdoAuthModule.forRoot({
      ...procurios.clientCredentials({ tokenUrl: serviceMock.tokenUrl, apiUrl: serviceMock.apiUrl, clientId, clientSecret, scope }),
      // Refresh in the last third of the token's life: a few reloads show it reused, then refreshed.
      refreshSkewSeconds: tokenSeconds / 3,
    }),
    ProdoAuthModule.forRoot({
      name: USER,
      ...procurios.authorizationCode({ authorizeUrl: userMock.authorizeUrl, tokenUrl: userMock.tokenUrl, apiUrl: userMock.apiUrl, clientId, clientSecret, scope, redirectUri }),
      redirectUri,
      // A demo's secret, new on every start (sessions end with the process). Yours comes from the environment.
      sessionSecret: randomBytes(32).toString('base64url'),
    }),
  ];
  return { imports, service: true, user: USER, apiPath: MOCK_API_PATH, mocks: [serviceMock, userMock], serviceMock };
}

/** What the API answered to `auth.fetch(apiPath)` (the signed-in user's), and who it says the caller is. */
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

const notConfigured = (title, needs) => page(title, `<p>Not configured: this mode needs ${needs}.</p>`);

/** The controller: every page. Service mode injects the default client's HttpService and TokenClient. */
function buildController({ service, user, apiPath, serviceMock }) {
  let last;
  let loads = 0;
  class PagesController {
    constructor(http, client) {
      this.http = http;
      this.client = client;
    }

    async home(auth, res) {
      const signedIn = auth?.isAuthenticated === true;
      const who = signedIn ? (await callApi(auth, apiPath)).name : undefined;
      const userMode = !user
        ? 'User mode is not configured (it needs an authorization code grant).'
        : signedIn
          ? '<a id="profile" href="/profile">Your profile</a>: the app calls the API as you.'
          : 'User mode: <a id="sign-in" href="/auth/login?returnTo=/profile">Sign in</a>, then the profile calls the API as you.';
      res.type('html').send(
        page(
          'prodo-auth Nest demo',
          `<p id="status">${signedIn ? `signed in as <strong>${escapeHtml(who)}</strong>` : 'not signed in'}</p>` +
            '<ul><li><a id="service" href="/service">Service mode</a>: the app calls the API with its own token.</li>' +
            `<li>${userMode}</li></ul>`,
        ),
      );
    }

    // Service mode: this.http is the HttpService of the default client, its token added (and
    // refreshed, and retried once on a 401) by the module; one token for the whole app.
    async service(res) {
      if (!service) return void res.status(404).type('html').send(notConfigured('Service mode', 'a service grant, such as client credentials'));
      const api = await firstValueFrom(this.http.get(apiPath, { validateStatus: () => true }));
      const current = fingerprint(await this.client.getAccessToken());
      const news = last === undefined ? 'the first token of this run' : last === current ? 'reused: the same token as the last load' : `refreshed: it replaced ${last}`;
      last = current;
      loads++;
      const requests = serviceMock === undefined ? '' : ` Token requests the auth server received: <span id="token-requests">${serviceMock.stats.tokenRequests}</span>.`;
      res.type('html').send(
        page(
          'Service mode',
          `<p>API call through the injected <code>HttpService</code>, <code>this.http.get('${escapeHtml(apiPath)}')</code>: HTTP <span id="api-status">${api.status}</span></p>` +
            `<p>Token <code id="token">${current}</code>: <span id="token-news">${news}</span>.</p>` +
            `<p>Page loads: <span id="loads">${loads}</span>.${requests}</p>` +
            '<p>Reload: the token is reused; near its expiry a background refresh replaces it.</p>',
        ),
      );
    }

    // User mode: ProdoAuthGuard sends the browser to the sign-in first, and back here after it.
    async profile(auth, res) {
      const me = await callApi(auth, apiPath);
      res.type('html').send(
        page(
          'Profile',
          `<p id="status">signed in as <strong id="user">${escapeHtml(me.name)}</strong></p>` +
            `<p>The API, called as you: HTTP ${me.status}</p><pre>${escapeHtml(JSON.stringify(me.body, null, 2))}</pre>` +
            '<form method="post" action="/auth/logout"><button id="sign-out">Sign out</button></form>',
        ),
      );
    }

    notConfiguredProfile(res) {
      res.status(404).type('html').send(notConfigured('Profile', 'an authorization code grant'));
    }
  }
  Controller()(PagesController);
  if (service) {
    Inject(getHttpServiceToken())(PagesController, undefined, 0);
    Inject(getTokenClientToken())(PagesController, undefined, 1);
  }
  decorate(PagesController, 'home', [Get()], user ? [ProdoAuth(user), Res()] : [() => undefined, Res()]);
  decorate(PagesController, 'service', [Get('service')], [Res()]);
  if (user) decorate(PagesController, 'profile', [Get('profile'), UseGuards(ProdoAuthGuard)], [ProdoAuth(user), Res()]);
  else decorate(PagesController, 'notConfiguredProfile', [Get('profile')], [Res()]);
  return PagesController;
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
  let app;
  try {
    setup = await configure({ url, consent, tokenSeconds });
    class AppModule {}
    Module({ imports: setup.imports, controllers: [buildController(setup)] })(AppModule);
    // abortOnError: false, so that a bad configuration rejects here instead of aborting the process.
    app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: ['error', 'warn'], abortOnError: false });
  } catch (error) {
    server.close();
    await Promise.all((setup?.mocks ?? []).map((m) => m.close()));
    throw error;
  }
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  // Pages show who is signed in: no browser or proxy may keep them (the back button after sign-out).
  app.use((_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    next();
  });
  await app.init();
  server.on('request', app.getHttpAdapter().getInstance());
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
      // Closes every ProdoAuthModule client, as enableShutdownHooks() does on a signal.
      await app.close();
      await Promise.all(setup.mocks.map((m) => m.close()));
    },
  };
}
