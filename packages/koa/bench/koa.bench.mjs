#!/usr/bin/env node
// Benchmarks @prodo-auth/koa against the built package (`npx tsdown` first), on Koa 3: service
// mode and user mode next to the same app without prodoAuth, the memory of 10,000 sessions, and
// the per-request cost as sessions grow. It runs the Express bench's harness (one bench, the
// framework as a parameter): what is measured, how, and the goals are described there.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { prodoAuth } from '../dist/index.mjs';
import { runAdapterBench } from '../../express/bench/harness.mjs';

const { version } = createRequire(import.meta.url)('koa/package.json');

/** A Koa app as a node:http listener; `close` closes what prodoAuth() opened. */
function build(middlewares, close = async () => undefined) {
  const app = new Koa();
  for (const m of middlewares) app.use(m);
  return { listener: app.callback(), close };
}

await runAdapterBench({
  name: `koa ${version}`,
  file: fileURLToPath(import.meta.url),
  apps: {
    service: {
      prodo(options) {
        const middleware = prodoAuth(options);
        return build(
          [
            middleware,
            async (ctx, next) => {
              if (ctx.path !== '/token') return next();
              ctx.body = await ctx.state.prodoAuth.getAccessToken();
            },
          ],
          middleware.close,
        );
      },
      baseline: (token) =>
        build([
          async (ctx, next) => {
            if (ctx.path !== '/token') return next();
            ctx.body = token;
          },
        ]),
    },
    user: {
      prodo(options) {
        const middleware = prodoAuth(options);
        return build(
          [
            middleware,
            async (ctx, next) => {
              if (ctx.path !== '/me') return next();
              if (!ctx.state.prodoAuth.isAuthenticated) {
                ctx.status = 401;
                ctx.body = 'login_required';
                return;
              }
              ctx.body = await ctx.state.prodoAuth.getAccessToken();
            },
          ],
          middleware.close,
        );
      },
      baseline: (check, token) =>
        build([
          async (ctx, next) => {
            if (ctx.path !== '/me') return next();
            if (!check(ctx.headers.cookie)) {
              ctx.status = 401;
              ctx.body = 'login_required';
              return;
            }
            ctx.body = token;
          },
        ]),
    },
  },
});
