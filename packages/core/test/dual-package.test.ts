/**
 * Two copies of core in one process (the dual-package hazard: an ESM app whose CommonJS dependency
 * requires core; or a duplicate install) must work together: nothing that crosses the public API
 * may rely on a private-field brand or `instanceof`. The built ESM and CJS files are loaded side by
 * side and crossed, against real token servers on 127.0.0.1.
 */
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import type * as CoreModule from '../src/index.js';
import { startOAuthServer, type OAuthServer } from './helpers/oauth-server.js';
import { json, startServer } from './helpers/token-server.js';

type Core = typeof CoreModule;

// Loaded by path so that each is the built artifact itself, not the source.
const esm = (await import(new URL('../dist/index.mjs', import.meta.url).href)) as Core;
const cjs = createRequire(import.meta.url)('../dist/index.cjs') as Core;
let server: OAuthServer;
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

beforeAll(async () => {
  server = await startOAuthServer();
});
afterAll(() => server.close());

/** Both directions: [maker, user]. */
const pairs = (): Array<[string, Core, Core]> => [
  ['ESM → CJS', esm, cjs],
  ['CJS → ESM', cjs, esm],
];

function passwordGrantOf(core: Core): CoreModule.Grant {
  return core.passwordGrant({ tokenUrl: server.tokenUrl, clientId: 'app', username: 'alice', password: 'wonderland' });
}

function track<T extends { close(): Promise<void> }>(c: T): T {
  open.push(c);
  return c;
}

describe('two copies of core in one process', () => {
  it('loads two distinct copies (else this suite would prove nothing)', () => {
    expect(esm.TokenSet).not.toBe(cjs.TokenSet);
    expect(esm.createTokenClient).not.toBe(cjs.createTokenClient);
  });

  for (const [label, maker, user] of pairs()) {
    describe(label, () => {
      it("a grant made by one copy gets, refreshes and uses a token in the other's createTokenClient", async () => {
        const c = track(user.createTokenClient({ grant: passwordGrantOf(maker), apiUrl: server.apiUrl, retry: { retries: 0 } }));
        const token = await c.getAccessToken();
        expect(server.live.has(token)).toBe(true);
        await c.invalidate(token);
        const refreshed = await c.getAccessToken();
        expect(refreshed).not.toBe(token);
        expect(server.live.has(refreshed)).toBe(true);
        expect((await c.fetch('/api')).status).toBe(200);
      });

      it("a preset made by one copy works in the other's createTokenClient", async () => {
        const mock = (await startMockServer({ vendor: 'petrosoft' })) as MockServer<'petrosoft'>;
        open.push(mock);
        const options = maker.petrosoft({ login: 'APIUser@petrosoftinc.com', password: 'Password_01', baseUrl: mock.url });
        const c = track(user.createTokenClient({ ...options, retry: { retries: 0 } }));
        expect(typeof (await c.getAccessToken())).toBe('string');
      });

      it("a TokenSet made by one copy is taken by the other's setTokenSet, and its refresh token used once", async () => {
        const c = track(user.createTokenClient({ grant: passwordGrantOf(user), apiUrl: server.apiUrl, retry: { retries: 0 } }));
        const seed = track(maker.createTokenClient({ grant: passwordGrantOf(maker), retry: { retries: 0 } }));
        const set = await seed.getTokenSet(); // a TokenSet of the maker's copy
        await c.setTokenSet(set);
        expect(await c.getAccessToken()).toBe(set.accessToken);
        expect(await c.authorizationHeader()).toBe(`Bearer ${set.accessToken}`);
        const before = server.receivedRefreshTokens().length;
        await c.invalidate();
        expect(server.live.has(await c.getAccessToken())).toBe(true);
        expect(server.receivedRefreshTokens().slice(before)).toEqual([set.refreshToken]);
        // Its token values stay unprintable in the other copy too.
        expect(JSON.stringify(await c.getTokenSet())).not.toContain(set.accessToken);
      });

      it('an error made by one copy is recognised by the other: isProdoAuthError, httpStatusForError', () => {
        const errors = [
          new maker.ReauthenticationRequiredError('log in'),
          new maker.TokenEndpointError('down', { code: maker.ErrorCode.NETWORK, requestSent: false }),
          new maker.OAuthError({ error: 'invalid_grant', status: 400 }),
          new maker.ConfigError('bad', [{ path: 'tokenUrl', message: 'must be a URL' }]),
        ];
        expect(errors.map((e) => user.isProdoAuthError(e))).toEqual([true, true, true, true]);
        expect(errors.map((e) => user.httpStatusForError(e))).toEqual([401, 502, 502, 500]);
      });

      it("a memoryStore made by one copy is shared by clients of both copies", async () => {
        const store = maker.memoryStore();
        const a = track(maker.createTokenClient({ grant: passwordGrantOf(maker), store, retry: { retries: 0 } }));
        const b = track(user.createTokenClient({ grant: passwordGrantOf(user), store, retry: { retries: 0 } }));
        const before = server.tokenRequests().length;
        const token = await a.getAccessToken();
        expect(await b.getAccessToken()).toBe(token);
        expect(server.tokenRequests().length - before).toBe(1);
      });

      it("keeps a refresh token that another copy's transport never sent, and uses it once the server is back", async () => {
        const back = await startServer((req, res) => {
          const ok = req.params.refresh_token === 'still-good';
          json(res, ok ? 200 : 400, ok ? { access_token: 'renewed', token_type: 'Bearer' } : { error: 'invalid_grant' });
        });
        const url = back.url;
        await back.close(); // refused from now on
        // A grant written against the maker's copy, sending through that copy's own Transport:
        // its errors are the maker's classes.
        const transport = new maker.Transport({ retry: { retries: 0 } });
        const grant: CoreModule.Grant = {
          type: 'custom',
          cacheKey: 'dual-package-refresh',
          secrets: new maker.SecretSet(),
          canObtain: false,
          obtain: () => Promise.reject(new maker.ReauthenticationRequiredError('log in')),
          refresh: (ctx, current) =>
            maker.refreshTokenRequest({ transport, secrets: ctx.secrets }, current, { tokenUrl: new URL(`${url}/token`) }),
        };
        open.push(transport);
        const c = track(user.createTokenClient({ grant, retry: { retries: 0 } }));
        await c.setTokenSet(new user.TokenSet({ accessToken: 'old', refreshToken: 'still-good', expiresAt: Date.now() - 1 }));
        const refused = await c.getAccessToken().catch((e: unknown) => e);
        expect(refused).toMatchObject({ code: user.ErrorCode.NETWORK, requestSent: false });
        const again = await startServer(back.handler, Number(new URL(url).port));
        try {
          expect(await c.getAccessToken()).toBe('renewed');
          expect(again.requests.map((r) => r.params.refresh_token)).toEqual(['still-good']);
        } finally {
          await again.close();
        }
      });
    });
  }
});
