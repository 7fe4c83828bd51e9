/** The adapter suite's app (see AppSpec in @prodo-auth/adapter-suite), in Koa 2 or 3. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppSpec, RunningApp } from '@prodo-auth/adapter-suite';
import type Koa from 'koa';
import { prodoAuth, requireLogin } from '../src/index.js';

export async function startKoaApp(Framework: typeof Koa, spec: AppSpec): Promise<RunningApp> {
  const app = new Framework();
  // An error nobody answered: 500 app_error, so that "never a 500" can fail. Koa's own handler
  // would print it; this one is upstream of everything, as an app's error middleware is.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch {
      ctx.status = 500;
      ctx.body = { error: 'app_error' };
    }
  });
  const middleware = prodoAuth(spec.options);
  app.use(middleware);
  const callApi: Koa.Middleware = async (ctx) => {
    const api = await ctx.state.prodoAuth.fetch(spec.apiPath);
    ctx.status = api.status;
    ctx.type = 'application/json';
    ctx.body = await api.text();
  };
  const guard = requireLogin();
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET') return next();
    if (ctx.path === '/api') return callApi(ctx, next);
    if (ctx.path === '/private/api') return guard(ctx, () => callApi(ctx, next));
    if (ctx.path === '/state') {
      ctx.body = { authenticated: ctx.state.prodoAuth.isAuthenticated ?? null };
      return;
    }
    return next();
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await middleware.close();
    },
  };
}
