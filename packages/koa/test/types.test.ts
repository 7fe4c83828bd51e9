/**
 * The types users see: `ctx.state.prodoAuth` on Koa's DefaultState (the module augmentation), the
 * middleware as app.use() takes it. Checked by `tsc` (the typecheck task); vitest only runs it.
 */
import type { TokenClient } from '@prodo-auth/core';
import type { ServiceAuth, UserAuth } from '@prodo-auth/core/adapter';
import Koa, { type DefaultState, type Middleware as KoaMiddleware } from 'koa';
import Koa2 from 'koa-2';
import { describe, expectTypeOf, it } from 'vitest';
import { prodoAuth, requireLogin, type ProdoAuthMiddleware, type RequestAuth, type StateAuth } from '../src/index.js';

describe('types', () => {
  it("augments Koa's DefaultState with prodoAuth: getAccessToken, fetch, isAuthenticated; RequestAuth is the exact type", () => {
    expectTypeOf<DefaultState['prodoAuth']>().toEqualTypeOf<StateAuth>();
    expectTypeOf<RequestAuth>().toEqualTypeOf<ServiceAuth | UserAuth>();
    // Both modes' objects are what DefaultState['prodoAuth'] promises.
    expectTypeOf<ServiceAuth>().toMatchTypeOf<StateAuth>();
    expectTypeOf<UserAuth>().toMatchTypeOf<StateAuth>();
    const handler: KoaMiddleware = async (ctx) => {
      expectTypeOf(ctx.state.prodoAuth).toEqualTypeOf<StateAuth>();
      expectTypeOf(ctx.state.prodoAuth.getAccessToken).returns.toEqualTypeOf<Promise<string>>();
      const api = await ctx.state.prodoAuth.fetch('/things', { method: 'POST' });
      expectTypeOf(api.status).toBeNumber();
      expectTypeOf(ctx.state.prodoAuth.isAuthenticated).toEqualTypeOf<boolean | undefined>();
      // @ts-expect-error fetch takes a URL, not a number
      void ctx.state.prodoAuth.fetch(42);
      // @ts-expect-error the client is service mode only: narrow to RequestAuth first
      void ctx.state.prodoAuth.client;
      const exact = ctx.state.prodoAuth as RequestAuth;
      if ('client' in exact) expectTypeOf(exact.client).toEqualTypeOf<TokenClient>();
      // @ts-expect-error prodoAuth is the library's: not a place for anything else
      ctx.state.prodoAuth = 'token';
    };
    void handler;
  });

  it("keeps it beside an app's own state type (new Koa<DefaultState & MyState>())", () => {
    const use = (): void => {
      const app = new Koa<DefaultState & { user: { id: string } }>();
      app.use(prodoAuth());
      app.use(async (ctx) => {
        expectTypeOf(ctx.state.user.id).toBeString();
        expectTypeOf(ctx.state.prodoAuth).toEqualTypeOf<StateAuth>();
      });
    };
    void use;
  });

  it('the middlewares fit app.use() of Koa 3 and 2, and compose as route middleware', () => {
    expectTypeOf(prodoAuth).parameter(0).toMatchTypeOf<object | undefined>();
    expectTypeOf(prodoAuth).returns.toEqualTypeOf<ProdoAuthMiddleware>();
    expectTypeOf<ProdoAuthMiddleware['close']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<ProdoAuthMiddleware>().toMatchTypeOf<KoaMiddleware>();
    expectTypeOf(requireLogin()).toMatchTypeOf<KoaMiddleware>();
    const use = (): void => {
      for (const app of [new Koa(), new Koa2()]) {
        app.use(prodoAuth());
        app.use(requireLogin());
      }
      // @ts-expect-error options are an object (createProdoAuth's), not a URL
      prodoAuth('https://auth.example.com/token');
      // @ts-expect-error requireLogin() takes no options: the flow decides
      requireLogin({ returnTo: '/' });
    };
    void use;
  });
});
