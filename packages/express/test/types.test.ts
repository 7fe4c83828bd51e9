/**
 * The types users see: `req.prodoAuth` on Express's Request (the global augmentation), the
 * middleware as app.use() takes it. Checked by `tsc` (the typecheck task); vitest only runs it.
 */
import type { TokenClient } from '@prodo-auth/core';
import type { ServiceAuth, UserAuth } from '@prodo-auth/core/adapter';
import express, { type Request } from 'express';
import express4 from 'express-4';
import { describe, expectTypeOf, it } from 'vitest';
import { prodoAuth, prodoAuthErrorHandler, requireLogin, type ProdoAuthMiddleware, type RequestAuth } from '../src/index.js';

describe('types', () => {
  it('augments Express Request with prodoAuth: getAccessToken, fetch, isAuthenticated; RequestAuth is the exact type', () => {
    expectTypeOf<Request['prodoAuth']>().toEqualTypeOf<Express.ProdoAuth>();
    expectTypeOf<RequestAuth>().toEqualTypeOf<ServiceAuth | UserAuth>();
    // Both modes' objects are what Request['prodoAuth'] promises.
    expectTypeOf<ServiceAuth>().toMatchTypeOf<Express.ProdoAuth>();
    expectTypeOf<UserAuth>().toMatchTypeOf<Express.ProdoAuth>();
    const handler: express.RequestHandler = async (req, res) => {
      expectTypeOf(req.prodoAuth.getAccessToken).returns.toEqualTypeOf<Promise<string>>();
      const api = await req.prodoAuth.fetch('/things', { method: 'POST' });
      expectTypeOf(api.status).toBeNumber();
      expectTypeOf(req.prodoAuth.isAuthenticated).toEqualTypeOf<boolean | undefined>();
      // @ts-expect-error fetch takes a URL, not a number
      void req.prodoAuth.fetch(42);
      // @ts-expect-error the client is service mode only: narrow to RequestAuth first
      void req.prodoAuth.client;
      const exact = req.prodoAuth as RequestAuth;
      if ('client' in exact) expectTypeOf(exact.client).toEqualTypeOf<TokenClient>();
      // @ts-expect-error prodoAuth is the library's: not a place for anything else
      req.prodoAuth = 'token';
      res.end();
    };
    void handler;
  });

  it('the middlewares fit app.use() and route handlers of Express 5 and 4', () => {
    expectTypeOf(prodoAuth).parameter(0).toMatchTypeOf<object | undefined>();
    expectTypeOf(prodoAuth).returns.toEqualTypeOf<ProdoAuthMiddleware>();
    expectTypeOf<ProdoAuthMiddleware['close']>().returns.toEqualTypeOf<Promise<void>>();
    const use = (): void => {
      for (const app of [express(), express4()]) {
        app.use(prodoAuth());
        app.get('/profile', requireLogin(), (_req, res) => void res.end());
        app.use(prodoAuthErrorHandler());
      }
      // @ts-expect-error options are an object (createProdoAuth's), not a URL
      prodoAuth('https://auth.example.com/token');
      // @ts-expect-error requireLogin() takes no options: the flow decides
      requireLogin({ returnTo: '/' });
    };
    void use;
  });
});
