/** The adapter suite's app (see AppSpec in @prodo-auth/adapter-suite), in Express 4 or 5. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppSpec, RunningApp } from '@prodo-auth/adapter-suite';
import type express from 'express';
import { prodoAuth, prodoAuthErrorHandler, requireLogin } from '../src/index.js';

export async function startExpressApp(framework: typeof express, spec: AppSpec): Promise<RunningApp> {
  const app = framework();
  const middleware = prodoAuth(spec.options);
  app.use(middleware);
  const callApi: express.RequestHandler = (req, res, next) => {
    // Express 4 does not catch a rejected promise: the error goes to next() by hand.
    req.prodoAuth
      .fetch(spec.apiPath)
      .then(async (api) => void res.status(api.status).type('application/json').send(await api.text()))
      .catch(next);
  };
  app.get('/api', callApi);
  app.get('/private/api', requireLogin(), callApi);
  app.get('/state', (req, res) => {
    res.json({ authenticated: req.prodoAuth.isAuthenticated ?? null });
  });
  app.use(prodoAuthErrorHandler());
  app.use(((_error, _req, res, _next) => void res.status(500).json({ error: 'app_error' })) as express.ErrorRequestHandler);
  const server = createServer(app);
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
