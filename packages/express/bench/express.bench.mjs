#!/usr/bin/env node
// Benchmarks @prodo-auth/express against the built package (`npx tsdown` first), on Express 5:
// service mode and user mode next to the same app without prodoAuth, the memory of 10,000
// sessions, and the per-request cost as sessions grow. What is measured, how, and the goals:
// see harness.mjs, which the Koa bench shares.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { prodoAuth } from '../dist/index.mjs';
import { runAdapterBench } from './harness.mjs';

const { version } = createRequire(import.meta.url)('express/package.json');

/** An Express app as a node:http listener; `close` closes what prodoAuth() opened. */
function build(setup, close = async () => undefined) {
  const app = express();
  setup(app);
  return { listener: app, close };
}

await runAdapterBench({
  name: `express ${version}`,
  file: fileURLToPath(import.meta.url),
  apps: {
    service: {
      prodo(options) {
        const middleware = prodoAuth(options);
        return build((app) => {
          app.use(middleware);
          app.get('/token', (req, res, next) => void req.prodoAuth.getAccessToken().then((token) => res.send(token), next));
        }, middleware.close);
      },
      baseline: (token) => build((app) => app.get('/token', (_req, res) => void res.send(token))),
    },
    user: {
      prodo(options) {
        const middleware = prodoAuth(options);
        return build((app) => {
          app.use(middleware);
          app.get('/me', (req, res, next) => {
            if (!req.prodoAuth.isAuthenticated) return void res.status(401).send('login_required');
            req.prodoAuth.getAccessToken().then((token) => res.send(token), next);
          });
        }, middleware.close);
      },
      baseline: (check, token) =>
        build((app) =>
          app.get('/me', (req, res) => {
            if (!check(req.headers.cookie)) return void res.status(401).send('login_required');
            res.send(token);
          }),
        ),
    },
  },
});
