/**
 * ProdoAuthModule in a Nest app, built with @nestjs/testing, against the mock server's vendor
 * simulators and small node:http servers on 127.0.0.1: injection of the default and named clients,
 * forRootAsync with ConfigService, bad configuration at bootstrap, and HttpService calls.
 */
import 'reflect-metadata';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { HttpModule, HttpService } from '@nestjs/axios';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import axios from 'axios';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv, ErrorCode, petrosoft, procurios, prodoscore, type TokenClient } from '@prodo-auth/core';
import { startMockServer, type MockServer, type Vendor } from '@prodo-auth/mock-server';
import {
  getHttpServiceToken,
  getTokenClientToken,
  InjectHttpService,
  InjectTokenClient,
  ProdoAuthModule,
  type ProdoAuthClientOptions,
  type ProdoAuthModuleOptions,
  type ProdoAuthOptionsFactory,
} from '../src/index.js';
import { nestVersion } from './app.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function mock<TVendor extends Vendor>(vendor: TVendor, options: { accessTokenTtlSeconds?: number } = {}): Promise<MockServer<TVendor>> {
  const server = (await startMockServer({ vendor, ...options })) as MockServer<TVendor>;
  open.push(server);
  return server;
}

const procuriosOptions = (m: MockServer<'procurios'>): ProdoAuthClientOptions => {
  const { clientId, clientSecret, scope } = m.credentials;
  return procurios.clientCredentials({ tokenUrl: m.tokenUrl, clientId, clientSecret, scope, apiUrl: m.apiUrl });
};

async function compile(metadata: Parameters<typeof Test.createTestingModule>[0]): Promise<INestApplicationContext> {
  const ref = await Test.createTestingModule(metadata).compile();
  const app = await ref.init();
  open.push(app);
  return app;
}

/** A server on 127.0.0.1 that records the Authorization of every request and answers 200 `{}`. */
async function recorder(): Promise<{ origin: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const configErrorOf = async (start: () => unknown): Promise<{ code?: string; message: string; issues?: Array<{ path: string }> } | undefined> => {
  try {
    await start();
  } catch (error) {
    return error as never;
  }
  return undefined;
};

describe(`nest ${nestVersion}: ProdoAuthModule`, () => {
  it('injects the default client and a named one side by side (Prodoscore and Petrosoft), each HttpService with its own token', async () => {
    const [prodo, petro] = [await mock('prodoscore'), await mock('petrosoft')];
    @Injectable()
    class Vendors {
      constructor(
        @InjectTokenClient() readonly prodoClient: TokenClient,
        @InjectTokenClient('petrosoft') readonly petroClient: TokenClient,
        @InjectHttpService() readonly prodoHttp: HttpService,
        @InjectHttpService('petrosoft') readonly petroHttp: HttpService,
      ) {}
    }
    const app = await compile({
      imports: [
        ProdoAuthModule.forRoot(prodoscore({ ...prodo.credentials, tokenUrl: prodo.tokenUrl, apiUrl: prodo.apiUrl })),
        ProdoAuthModule.forRoot({ name: 'petrosoft', ...petrosoft({ ...petro.credentials, baseUrl: petro.url }) }),
      ],
      providers: [Vendors],
    });
    const vendors = app.get(Vendors);
    expect(vendors.prodoClient).not.toBe(vendors.petroClient);
    expect(app.get(getTokenClientToken())).toBe(vendors.prodoClient);
    expect(app.get(getTokenClientToken('petrosoft'))).toBe(vendors.petroClient);
    expect(app.get(getHttpServiceToken('petrosoft'))).toBe(vendors.petroHttp);

    const a = await firstValueFrom(vendors.prodoHttp.get('/things'));
    const b = await firstValueFrom(vendors.petroHttp.get('/v1/stations'));
    expect([a.status, a.data.client_id]).toEqual([200, prodo.credentials.clientId]);
    expect(b.status).toBe(200);
    // Each simulator accepts only the tokens it issued: a 200 from both is each client's own token.
    expect([prodo.stats.apiRejections, petro.stats.apiRejections]).toEqual([0, 0]);
    expect([prodo.stats.tokenRequests, petro.stats.tokenRequests]).toEqual([1, 1]);
  });

  it('getTokenClientToken and getHttpServiceToken let a test replace a client (overrideProvider)', async () => {
    const fake = { getAccessToken: async () => 'fake' } as unknown as TokenClient;
    @Injectable()
    class UsesClient {
      constructor(@InjectTokenClient() readonly client: TokenClient) {}
    }
    const m = await mock('procurios');
    const ref = await Test.createTestingModule({ imports: [ProdoAuthModule.forRoot(procuriosOptions(m))], providers: [UsesClient] })
      .overrideProvider(getTokenClientToken())
      .useValue(fake)
      .compile();
    open.push(ref);
    expect(await ref.get(UsesClient).client.getAccessToken()).toBe('fake');
  });

  it('forRootAsync with ConfigService: useFactory, useClass and useExisting, and isGlobal reaches a feature module', async () => {
    const m = await mock('procurios');
    const config = ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ procurios: { tokenUrl: m.tokenUrl, apiUrl: m.apiUrl, clientId: m.credentials.clientId, clientSecret: m.credentials.clientSecret, scope: m.credentials.scope } })] });
    @Injectable()
    class FromConfig implements ProdoAuthOptionsFactory {
      constructor(@Inject(ConfigService) private readonly config: ConfigService) {}
      createProdoAuthOptions(): ProdoAuthClientOptions {
        return procurios.clientCredentials(this.config.getOrThrow('procurios'));
      }
    }
    @Module({ imports: [config], providers: [FromConfig], exports: [FromConfig] })
    class OptionsModule {}
    @Injectable()
    class Feature {
      constructor(@InjectHttpService('factory') readonly http: HttpService) {}
    }
    @Module({ providers: [Feature] })
    class FeatureModule {}

    const app = await compile({
      imports: [
        FeatureModule,
        ProdoAuthModule.forRootAsync({
          name: 'factory',
          isGlobal: true,
          imports: [config],
          inject: [ConfigService],
          useFactory: async (c: ConfigService) => procurios.clientCredentials(c.getOrThrow('procurios')),
        }),
        ProdoAuthModule.forRootAsync({ name: 'class', imports: [config], useClass: FromConfig }),
        ProdoAuthModule.forRootAsync({ name: 'existing', imports: [OptionsModule], useExisting: FromConfig }),
      ],
    });
    for (const name of ['class', 'existing']) {
      const r = await firstValueFrom(app.get<HttpService>(getHttpServiceToken(name)).get('/object'));
      expect([name, r.status, r.data.data.client_id]).toEqual([name, 200, m.credentials.clientId]);
    }
    const r = await firstValueFrom(app.get(Feature, { strict: false }).http.get('/object'));
    expect(r.status).toBe(200);
    expect(m.stats.tokenRequests).toBe(3);
  });

  it('a bad configuration is a ConfigError naming it: forRoot() throws, forRootAsync fails the bootstrap, nothing secret in it', async () => {
    const bad = { ...procurios.clientCredentials({ tokenUrl: 'https://auth.example.com/token', clientId: 'c', clientSecret: 'a-client-secret-value' }), refreshSkewSeconds: -1 };
    const sync = await configErrorOf(() => ProdoAuthModule.forRoot(bad));
    expect([sync?.code, sync?.issues?.map((i) => i.path)]).toEqual([ErrorCode.CONFIG, ['refreshSkewSeconds']]);
    expect(sync?.message).not.toContain('a-client-secret-value');

    const async = await configErrorOf(() => compile({ imports: [ProdoAuthModule.forRootAsync({ useFactory: async () => bad })] }));
    expect([async?.code, async?.issues?.map((i) => i.path)]).toEqual([ErrorCode.CONFIG, ['refreshSkewSeconds']]);
    expect(async?.message).not.toContain('a-client-secret-value');

    // The HttpService's origins are checked at bootstrap too: plain http off loopback is refused.
    const m = await mock('procurios');
    const origins = await configErrorOf(() => compile({ imports: [ProdoAuthModule.forRoot({ ...procuriosOptions(m), http: { origins: ['http://api.example.com'] } })] }));
    expect(origins?.code).toBe(ErrorCode.CONFIG);
    expect(origins?.message).toMatch(/http:\/\/api\.example\.com|dangerouslyAllowInsecureHttp/);
  });

  it("configFromEnv()'s non-enumerable sessionSecret survives forRoot() beside the extras: user mode boots", async () => {
    const env = {
      PRODO_AUTH_GRANT: 'authorization_code',
      PRODO_AUTH_AUTHORIZE_URL: 'https://auth.example.com/authorize',
      PRODO_AUTH_TOKEN_URL: 'https://auth.example.com/token',
      PRODO_AUTH_CLIENT_ID: 'web',
      PRODO_AUTH_CLIENT_SECRET: 'a-client-secret-value',
      PRODO_AUTH_REDIRECT_URI: 'https://app.example.com/auth/callback',
      PRODO_AUTH_SESSION_SECRET: 'an env session secret of 32+ characters',
    };
    const config = configFromEnv(env);
    expect(Object.keys(config)).not.toContain('sessionSecret');
    // The module's copy without `name` and `isGlobal` keeps every property, enumerable or not.
    const withExtras = Object.assign(Object.create(null) as object, { name: 'web', isGlobal: false });
    Object.defineProperties(withExtras, Object.getOwnPropertyDescriptors(config));
    const app = await compile({ imports: [ProdoAuthModule.forRoot(withExtras as ProdoAuthModuleOptions)] });
    expect(app.get(getTokenClientToken('web'), { strict: false })).toBeUndefined();
  });

  it('with no options it reads PRODO_AUTH_*: a missing variable is a ConfigError at forRoot() naming it', async () => {
    const before = { ...process.env };
    try {
      process.env.PRODO_AUTH_GRANT = 'client_credentials';
      delete process.env.PRODO_AUTH_TOKEN_URL;
      const error = await configErrorOf(() => ProdoAuthModule.forRoot({ name: 'env', isGlobal: true }));
      expect(error?.code).toBe(ErrorCode.CONFIG);
      expect(error?.message).toContain('PRODO_AUTH_TOKEN_URL');
    } finally {
      process.env = before;
    }
  });
});

describe(`nest ${nestVersion}: the HttpService of a client`, () => {
  async function service(m: MockServer<'procurios'>, extra: Partial<ProdoAuthClientOptions> = {}): Promise<{ http: HttpService; client: TokenClient }> {
    const app = await compile({ imports: [ProdoAuthModule.forRoot({ ...procuriosOptions(m), ...extra })] });
    return { http: app.get(getHttpServiceToken()), client: app.get(getTokenClientToken()) };
  }

  it('carries the token on each call (one token request for many), and a refreshed one after expiry', async () => {
    const m = await mock('procurios', { accessTokenTtlSeconds: 1 });
    const { http, client } = await service(m, { refreshSkewSeconds: 0 });
    const first = await Promise.all(Array.from({ length: 10 }, () => firstValueFrom(http.get('/object'))));
    expect(first.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(m.stats.tokenRequests).toBe(1);
    const token = await client.getAccessToken();
    await new Promise((r) => setTimeout(r, 1_100));
    const later = await firstValueFrom(http.get('/object'));
    expect(later.status).toBe(200);
    expect(await client.getAccessToken()).not.toBe(token);
    expect(m.stats.tokenRequests).toBe(2);
    expect(m.stats.apiRejections).toBe(0);
  });

  it('a 401 (a revoked token) gets one new token and one retry, not more', async () => {
    const m = await mock('procurios');
    const { http, client } = await service(m);
    expect((await firstValueFrom(http.get('/object'))).status).toBe(200);
    m.revoke(await client.getAccessToken());
    const retried = await firstValueFrom(http.get('/object'));
    expect(retried.status).toBe(200);
    expect([m.stats.tokenRequests, m.stats.apiRejections]).toEqual([2, 1]);
  });

  it('never sends the token to another host, and leaves the global axios and a bare HttpModule alone', async () => {
    const m = await mock('procurios');
    const other = await recorder();
    const interceptors = (axios.interceptors.request as unknown as { handlers: unknown[] }).handlers.length;
    @Injectable()
    class Bare {
      constructor(@Inject(HttpService) readonly http: HttpService) {}
    }
    const app = await compile({ imports: [ProdoAuthModule.forRoot(procuriosOptions(m)), HttpModule], providers: [Bare] });
    const http = app.get<HttpService>(getHttpServiceToken());
    expect((await firstValueFrom(http.get('/object'))).status).toBe(200);
    await firstValueFrom(http.get(`${other.origin}/elsewhere`));
    await firstValueFrom(app.get(Bare).http.get(`${other.origin}/bare`));
    await axios.get(`${other.origin}/global`);
    expect(other.seen.map((h) => h.authorization)).toEqual([undefined, undefined, undefined]);
    expect(app.get(Bare).http.axiosRef).not.toBe(http.axiosRef);
    expect((axios.interceptors.request as unknown as { handlers: unknown[] }).handlers.length).toBe(interceptors);
    expect(axios.defaults.headers.common.Authorization).toBeUndefined();
  });
});
