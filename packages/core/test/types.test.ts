/** What must and must not compile. `tsc` (the typecheck task) checks the @ts-expect-error lines. */
import { describe, expectTypeOf, it } from 'vitest';
import {
  clientCredentialsGrant,
  createTokenClient,
  passwordGrant,
  petrosoft,
  privateKeyJwt,
  prodoscore,
  tokenExchangeGrant,
  type AuthorizationRequestOptions,
  type Grant,
  type PetrosoftOptions,
  type ProdoAuthConfig,
  type RevokeResult,
  type TokenSet,
  type TokenClient,
  type TokenClientOptions,
} from '../src/index.js';

describe('types', () => {
  it('types the client API', () => {
    expectTypeOf(createTokenClient).returns.toEqualTypeOf<TokenClient>();
    expectTypeOf<Awaited<ReturnType<TokenClient['revoke']>>>().toEqualTypeOf<RevokeResult>();
    expectTypeOf<RevokeResult['revoked']>().toEqualTypeOf<Array<'refresh_token' | 'access_token'>>();
    expectTypeOf<TokenClient['getAccessToken']>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<TokenClient['getTokenSet']>().returns.toEqualTypeOf<Promise<TokenSet>>();
    expectTypeOf(prodoscore).returns.toEqualTypeOf<TokenClientOptions>();
    expectTypeOf(passwordGrant).returns.toEqualTypeOf<Grant>();
    expectTypeOf<TokenSet['accessToken']>().toEqualTypeOf<string>();
    expectTypeOf<TokenSet['expiresAt']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<PetrosoftOptions['apiUrl']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ProdoAuthConfig['redisUrl']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<AuthorizationRequestOptions['state']>().toEqualTypeOf<string | undefined>();
    // A configFromEnv() result is createTokenClient options.
    expectTypeOf<ProdoAuthConfig>().toMatchTypeOf<TokenClientOptions>();
  });

  it('rejects what must not compile', () => {
    const compileOnly = (): void => {
      // @ts-expect-error clientCredentialsGrant needs a clientSecret
      clientCredentialsGrant({ tokenUrl: 'https://a.example/token', clientId: 'x' });
      // @ts-expect-error scope is a string or a string array
      passwordGrant({ tokenUrl: 'https://a.example/token', clientId: 'x', username: 'u', password: 'p', scope: 5 });
      // @ts-expect-error clientAuth names a known method
      passwordGrant({ tokenUrl: 'https://a.example/token', clientId: 'x', username: 'u', password: 'p', clientAuth: 'magic' });
      // @ts-expect-error createTokenClient needs a grant
      createTokenClient({ apiUrl: 'https://api.example' });
      // The contract shape, and the optional API URL beside it.
      petrosoft({ login: 'l', password: 'p', baseUrl: 'https://b.example' });
      petrosoft({ login: 'l', password: 'p', baseUrl: 'https://b.example', apiUrl: 'https://a.example/v1' });
      // @ts-expect-error petrosoft's apiUrl is a string
      petrosoft({ login: 'l', password: 'p', baseUrl: 'https://b.example', apiUrl: 5 });
      // @ts-expect-error a misspelled option does not compile (and is a ConfigError in JavaScript)
      createTokenClient({ grant: passwordGrant({ tokenUrl: '', clientId: '', username: '', password: '' }), apiURL: 'https://api.example' });
      // @ts-expect-error the token client's events are typed
      createTokenClient({ grant: passwordGrant({ tokenUrl: '', clientId: '', username: '', password: '' }) }).on('tokn', () => {});
      // A client that authenticates without a secret needs none.
      clientCredentialsGrant({ issuer: 'https://a.example', clientId: 'x', clientAuth: privateKeyJwt('x', 'pem') });
      clientCredentialsGrant({ issuer: 'https://a.example', clientId: 'x', clientAuth: 'private_key_jwt', privateKey: 'pem' });
      // @ts-expect-error 'private_key_jwt' by name needs its privateKey
      clientCredentialsGrant({ issuer: 'https://a.example', clientId: 'x', clientAuth: 'private_key_jwt' });
      // @ts-expect-error client credentials refuses a public client
      clientCredentialsGrant({ issuer: 'https://a.example', clientId: 'x', clientAuth: 'none' });
      // @ts-expect-error a token exchange needs a subject token
      tokenExchangeGrant({ issuer: 'https://a.example', clientId: 'x' });
      // @ts-expect-error revoke's options are typed
      void createTokenClient({ grant: passwordGrant({ tokenUrl: '', clientId: '', username: '', password: '' }) }).revoke({ refreshToken: true });
    };
    expectTypeOf(compileOnly).toBeFunction();
  });
});
