/** The adapter surface's types: what adapters rely on, and what must not compile. */
import { describe, expectTypeOf, it } from 'vitest';
import type { Response } from 'undici';
import {
  createProdoAuth,
  errorResult,
  safeReturnTo,
  type FlowResult,
  type LoginFlow,
  type PlainRequest,
  type ProdoAuth,
  type ServiceAuth,
  type SessionStore,
  type SetCookie,
  type UserAuth,
} from '../../src/adapter.js';
import type { TokenClient } from '../../src/index.js';

describe('adapter types', () => {
  it('types createProdoAuth and narrows on mode', () => {
    expectTypeOf(createProdoAuth).returns.toEqualTypeOf<ProdoAuth>();
    const auth = {} as ProdoAuth;
    if (auth.mode === 'service') {
      expectTypeOf(auth.auth).toEqualTypeOf<ServiceAuth>();
      expectTypeOf(auth.client).toEqualTypeOf<TokenClient>();
      // @ts-expect-error service mode has no flow
      void auth.flow;
    } else {
      expectTypeOf(auth.flow).toEqualTypeOf<LoginFlow>();
    }
  });

  it('types the flow: plain request in, plain result out', () => {
    expectTypeOf<LoginFlow['handle']>().parameters.toEqualTypeOf<[PlainRequest]>();
    expectTypeOf<LoginFlow['handle']>().returns.toEqualTypeOf<Promise<FlowResult>>();
    expectTypeOf<LoginFlow['requireLogin']>().returns.toEqualTypeOf<FlowResult | undefined>();
    expectTypeOf<FlowResult['kind']>().toEqualTypeOf<'redirect' | 'continue' | 'respond'>();
    expectTypeOf<Extract<FlowResult, { kind: 'redirect' }>['status']>().toEqualTypeOf<302 | 303>();
    expectTypeOf<Extract<FlowResult, { kind: 'continue' }>['auth']>().toEqualTypeOf<UserAuth>();
    expectTypeOf<FlowResult['cookies']>().toEqualTypeOf<readonly SetCookie[]>();
    expectTypeOf<SetCookie['header']>().toEqualTypeOf<string>();
    expectTypeOf<UserAuth['isAuthenticated']>().toEqualTypeOf<boolean>();
    expectTypeOf<UserAuth['fetch']>().returns.toEqualTypeOf<Promise<Response>>();
    expectTypeOf(errorResult).returns.toEqualTypeOf<FlowResult>();
    expectTypeOf(safeReturnTo).returns.toEqualTypeOf<string>();
    expectTypeOf<SessionStore['take']>().parameters.toEqualTypeOf<[string]>();
    // @ts-expect-error a PlainRequest needs its headers
    const bad: PlainRequest = { method: 'GET', url: '/' };
    void bad;
  });
});
