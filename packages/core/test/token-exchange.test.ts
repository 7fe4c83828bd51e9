/**
 * The token exchange grant (RFC 8693) against oidc-provider, through a grant handler this test
 * registers: on-behalf-of calls with a subject token that may be a function, cached per subject,
 * audience, resource and scope, and renewed by exchanging again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createTokenClient,
  ErrorCode,
  memoryStore,
  OAuthError,
  TOKEN_EXCHANGE_GRANT_TYPE,
  TOKEN_TYPES,
  tokenExchangeGrant,
  clientCredentialsGrant,
  type TokenClient,
  type TokenClientOptions,
  type TokenStore,
} from '../src/index.js';
import { API_SCOPE, CLIENTS } from './helpers/oidc-provider.js';
import { startStandardsProvider, type StandardsTestServer } from './helpers/oidc-provider-standards.js';

const EXCHANGER = { clientId: 'svc-exchange', clientSecret: 'svc-exchange-secret-value' };

/** What the provider's token exchange handler received, per request. */
interface ExchangeRecord {
  subject: string | undefined;
  subjectTokenType: unknown;
  audience: unknown;
  resource: unknown;
  scope: unknown;
  actorTokenType: unknown;
  issued: string | undefined;
}

let op: StandardsTestServer;
const exchanges: ExchangeRecord[] = [];
const open: TokenClient[] = [];

beforeAll(async () => {
  op = await startStandardsProvider({
    clients: () => [
      {
        client_id: EXCHANGER.clientId,
        client_secret: EXCHANGER.clientSecret,
        grant_types: [TOKEN_EXCHANGE_GRANT_TYPE],
        response_types: [],
        redirect_uris: [],
        scope: API_SCOPE,
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    setup(provider) {
      // A minimal RFC 8693 handler: the subject token must be a live client credentials token of
      // this provider; the exchanged token is a new one for the exchanging client, 60 s.
      const params = ['subject_token', 'subject_token_type', 'audience', 'resource', 'scope', 'actor_token', 'actor_token_type', 'requested_token_type'];
      provider.registerGrantType(
        TOKEN_EXCHANGE_GRANT_TYPE,
        async (ctx: { oidc: { params: Record<string, unknown>; client: unknown }; body: unknown; status: number }) => {
          const p = ctx.oidc.params;
          const record: ExchangeRecord = {
            subject: undefined,
            subjectTokenType: p['subject_token_type'],
            audience: p['audience'],
            resource: p['resource'],
            scope: p['scope'],
            actorTokenType: p['actor_token_type'],
            issued: undefined,
          };
          exchanges.push(record);
          const subject = await provider.ClientCredentials.find(String(p['subject_token']));
          if (!subject || subject.isExpired) {
            ctx.status = 400;
            ctx.body = { error: 'invalid_grant', error_description: 'subject token is invalid' };
            return;
          }
          record.subject = subject.clientId;
          const token = new provider.ClientCredentials({ client: ctx.oidc.client, scope: String(p['scope'] ?? API_SCOPE) });
          token.expiresIn = 60;
          const value = await token.save();
          record.issued = value;
          ctx.body = { access_token: value, issued_token_type: TOKEN_TYPES.accessToken, token_type: 'Bearer', expires_in: 60 };
        },
        params,
        ['audience', 'resource'],
      );
    },
  });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  expect(op.serverErrors).toEqual([]);
});
afterAll(() => op?.close());

function client(options: TokenClientOptions): TokenClient {
  const c = createTokenClient({ timeoutMs: 5000, ...options });
  open.push(c);
  return c;
}

/** A user's token, as the service would receive it: a live token of the provider. */
async function subjectToken(): Promise<string> {
  const c = client({ grant: clientCredentialsGrant({ tokenUrl: op.tokenUrl, ...CLIENTS.basic, scope: API_SCOPE }) });
  const token = await c.getAccessToken();
  await c.close();
  return token;
}

const exchangeGrant = (extra: Partial<Parameters<typeof tokenExchangeGrant>[0]> & { subjectToken: string | (() => Promise<string>) }) =>
  tokenExchangeGrant({ issuer: op.issuer, ...EXCHANGER, scope: API_SCOPE, ...extra });

describe('tokenExchangeGrant against oidc-provider', () => {
  it('exchanges the subject token for a token the provider issued, with audience and resource', async () => {
    exchanges.length = 0;
    const subject = await subjectToken();
    const c = client({
      grant: exchangeGrant({ subjectToken: subject, audience: ['billing', 'ledger'], resource: 'https://billing.example.com/api' }),
    });
    const token = await c.getAccessToken();
    expect(token).not.toBe(subject);
    expect(exchanges).toEqual([
      {
        subject: CLIENTS.basic.clientId,
        subjectTokenType: TOKEN_TYPES.accessToken,
        audience: ['billing', 'ledger'],
        // One value: the provider's parser gives a string, two an array.
        resource: 'https://billing.example.com/api',
        scope: API_SCOPE,
        actorTokenType: undefined,
        issued: token,
      },
    ]);
    expect(await op.provider.ClientCredentials.find(token)).toMatchObject({ clientId: EXCHANGER.clientId });
    // Cached: no second exchange while the token is fresh.
    await c.getAccessToken();
    expect(exchanges).toHaveLength(1);
  });

  it('calls a function subject token for every exchange, and renews by exchanging again', async () => {
    exchanges.length = 0;
    let calls = 0;
    const c = client({
      grant: exchangeGrant({
        subject: 'alice',
        subjectToken: async () => {
          calls += 1;
          return subjectToken();
        },
      }),
    });
    const first = await c.getAccessToken();
    await c.invalidate();
    const second = await c.getAccessToken();
    expect(second).not.toBe(first);
    expect(calls).toBe(2);
    expect(exchanges.map((e) => e.issued)).toEqual([first, second]);
  });

  it('never shares a cached token between two subjects or two audiences on one store', async () => {
    exchanges.length = 0;
    const store: TokenStore = memoryStore();
    const [alice, bob] = [await subjectToken(), await subjectToken()];
    const tokenOf = (subjectToken: string, audience: string): Promise<string> =>
      client({ store, grant: exchangeGrant({ subjectToken, audience }) }).getAccessToken();
    const a1 = await tokenOf(alice, 'billing');
    const b1 = await tokenOf(bob, 'billing');
    const a2 = await tokenOf(alice, 'ledger');
    // The same subject and audience again, from a new client on the same store: the cached token.
    const a1again = await tokenOf(alice, 'billing');
    expect(new Set([a1, b1, a2]).size).toBe(3);
    expect(a1again).toBe(a1);
    expect(exchanges).toHaveLength(3);
  });

  it('reports a subject token the provider refuses as invalid_grant, without the token in the error', async () => {
    const bogus = 'not-a-token-of-this-provider-1234';
    const c = client({ grant: exchangeGrant({ subjectToken: bogus }) });
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: ErrorCode.OAUTH, error: 'invalid_grant' });
    expect(String(error)).not.toContain(bogus);
  });
});

describe('tokenExchangeGrant options', () => {
  const base = { tokenUrl: 'https://as.example.com/token', clientId: 'svc', clientSecret: 'secret-value' };
  const issues = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).issues;
    }
    throw new Error('no ConfigError');
  };

  it('needs subject with a function subjectToken, actorTokenType with actorToken, and absolute resource URIs', () => {
    expect(issues(() => tokenExchangeGrant({ ...base, subjectToken: () => 'x' }))).toEqual([
      { path: 'subject', message: expect.stringContaining('two subjects never share') },
    ]);
    expect(issues(() => tokenExchangeGrant({ ...base, subjectToken: 'tok-value', actorToken: 'actor-value' }))).toEqual([
      { path: 'actorTokenType', message: expect.stringContaining('required with actorToken') },
    ]);
    expect(issues(() => tokenExchangeGrant({ ...base, subjectToken: 'tok-value', resource: ['relative/path'] }))).toEqual([
      { path: 'resource.0', message: 'must be an absolute URL' },
    ]);
    expect(issues(() => tokenExchangeGrant({ ...base, subjectToken: '' }))).toEqual([
      { path: 'subjectToken', message: expect.stringContaining('non-empty string, or a function') },
    ]);
  });

  it('keeps the subject and actor tokens out of the cache key and of inspect', () => {
    const subjectToken = 'subject-token-value-abcdef';
    const grant = tokenExchangeGrant({ ...base, subjectToken, actorToken: 'actor-token-value-123456', actorTokenType: TOKEN_TYPES.accessToken });
    expect(grant.cacheKey).not.toContain(subjectToken);
    expect(grant.secrets.redact(`${subjectToken} actor-token-value-123456`)).toBe('[REDACTED] [REDACTED]');
  });
});
