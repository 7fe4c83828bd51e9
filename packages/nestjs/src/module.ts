/**
 * `ProdoAuthModule`: one dynamic module per client, built the way Nest's own modules are
 * (`forRoot`, `forRootAsync` with `useFactory | useClass | useExisting`, `isGlobal`), by hand so
 * that the module's extras (`name`, `isGlobal`) never reach the client's options.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Inject, Module, type DynamicModule, type MiddlewareConsumer, type ModuleMetadata, type NestModule, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HttpService } from '@nestjs/axios';
import axios, { type CreateAxiosDefaults } from 'axios';
import type { ProdoAuthConfig, TokenClient } from '@prodo-auth/core';
import { createProdoAuth, type ProdoAuth as Built, type ProdoAuthOptions } from '@prodo-auth/core/adapter';
import { attachProdoAuth, type AttachProdoAuthOptions } from '@prodo-auth/axios';
import { authMiddleware, ProdoAuthExceptionFilter } from './http.js';

/** The HttpService of a service-mode client: its axios settings and which origins get the token. */
export interface ProdoAuthHttpOptions extends AttachProdoAuthOptions {
  /**
   * `axios.create()` settings of the client's own instance (never the global axios).
   * @default { baseURL: the client's apiUrl }, with keep-alive agents closed at shutdown
   */
  axios?: CreateAxiosDefaults | undefined;
}
/**
 * One client: createProdoAuth's options (a preset's output, configFromEnv()'s) and its
 * HttpService; with only `http` (or nothing), configFromEnv() reads PRODO_AUTH_*.
 */
export type ProdoAuthClientOptions = (ProdoAuthOptions | ProdoAuthConfig | object) & { http?: ProdoAuthHttpOptions | undefined };
/** The module's own settings, beside the client's. */
export interface ProdoAuthModuleExtras {
  /** Names the client's injection tokens (`@InjectTokenClient(name)`). @default 'default' */
  name?: string | undefined;
  /** Registers the module globally: no import in every feature module. @default false */
  isGlobal?: boolean | undefined;
}
/** `forRoot()`'s options: the client's and the module's; only extras (or nothing) read PRODO_AUTH_*. */
export type ProdoAuthModuleOptions = ProdoAuthClientOptions & ProdoAuthModuleExtras;
/** A class that makes a client's options (`useClass`, `useExisting`). */
export interface ProdoAuthOptionsFactory {
  createProdoAuthOptions(): ProdoAuthClientOptions | undefined | Promise<ProdoAuthClientOptions | undefined>;
}
/** `forRootAsync()`'s options; a result of `undefined` reads PRODO_AUTH_*. */
export interface ProdoAuthModuleAsyncOptions extends ProdoAuthModuleExtras, Pick<ModuleMetadata, 'imports'> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest's own type for factories
  useFactory?: (...args: any[]) => ProdoAuthClientOptions | undefined | Promise<ProdoAuthClientOptions | undefined>;
  inject?: Array<string | symbol | Type | { token: string | symbol | Type; optional: boolean }>;
  useClass?: Type<ProdoAuthOptionsFactory>;
  useExisting?: string | symbol | Type<ProdoAuthOptionsFactory>;
}

/** The injection token of a client's TokenClient, for custom providers and tests (`overrideProvider`). */
export const getTokenClientToken = (name = 'default'): string => `ProdoAuthTokenClient:${name}`;
/** The injection token of a client's HttpService (an axios instance carrying its tokens). */
export const getHttpServiceToken = (name = 'default'): string => `ProdoAuthHttpService:${name}`;
/** Injects a service-mode client's TokenClient: `constructor(@InjectTokenClient() client: TokenClient)`. */
export const InjectTokenClient = (name?: string): PropertyDecorator & ParameterDecorator => Inject(getTokenClientToken(name));
/** Injects a service-mode client's HttpService: `this.http.get('/things')` carries the token. */
export const InjectHttpService = (name?: string): PropertyDecorator & ParameterDecorator => Inject(getHttpServiceToken(name));

const OPTIONS = Symbol('prodo-auth.options');
const FACTORY = Symbol('prodo-auth.options-factory');
const CLIENT = Symbol('prodo-auth.client');

interface Client {
  readonly name: string;
  readonly built: Built;
  readonly http: HttpService | undefined;
  close(): Promise<void>;
}

/** The client's options without the module's extras, and its `http`; undefined (PRODO_AUTH_*) when nothing else is given. */
function split(options: ProdoAuthModuleOptions | undefined): { client: ProdoAuthOptions | undefined; http: ProdoAuthHttpOptions | undefined } {
  // A copy with every property, for configFromEnv() keeps its secrets non-enumerable.
  const rest = Object.defineProperties({}, Object.getOwnPropertyDescriptors(options ?? {})) as Record<string, unknown>;
  const http = rest.http as ProdoAuthHttpOptions | undefined;
  for (const extra of ['name', 'isGlobal', 'http']) delete rest[extra];
  return { client: Reflect.ownKeys(rest).length === 0 ? undefined : (rest as unknown as ProdoAuthOptions), http };
}

/** Builds one client at bootstrap: a bad option is a ConfigError that fails the app's start. */
function build(name: string, options: ProdoAuthModuleOptions | undefined): Client {
  const { client, http } = split(options);
  const built = createProdoAuth(client);
  if (built.mode === 'user') return { name, built, http: undefined, close: () => built.close() };
  try {
    const { axios: settings = {}, ...attach } = http ?? {};
    // Our own agents, destroyed at shutdown, unless the app brought its own.
    const agents = settings.httpAgent === undefined && settings.httpsAgent === undefined ? [new HttpAgent({ keepAlive: true }), new HttpsAgent({ keepAlive: true })] : [];
    const instance = axios.create({ baseURL: built.client.apiUrl, ...(agents.length > 0 ? { httpAgent: agents[0], httpsAgent: agents[1] } : {}), ...settings });
    attachProdoAuth(instance, built.client, attach);
    const close = async (): Promise<void> => {
      await built.close();
      for (const agent of agents) agent.destroy();
    };
    return { name, built, http: new HttpService(instance), close };
  } catch (error) {
    void built.close();
    throw error;
  }
}

function optionsProviders(options: ProdoAuthModuleAsyncOptions): Provider[] {
  if (options.useFactory !== undefined) return [{ provide: OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }];
  const factory = options.useExisting ?? (options.useClass !== undefined ? FACTORY : undefined);
  if (factory === undefined) return [{ provide: OPTIONS, useValue: undefined }];
  return [
    ...(options.useClass !== undefined ? [{ provide: FACTORY, useClass: options.useClass }] : []),
    { provide: OPTIONS, useFactory: (f: ProdoAuthOptionsFactory) => f.createProdoAuthOptions(), inject: [factory] },
  ];
}

/**
 * One prodo-auth client in a Nest app: its TokenClient and HttpService as providers (service
 * mode), the login routes and the session of every request (user mode), closed at shutdown.
 *
 * @example
 * `@Module({ imports: [ProdoAuthModule.forRoot({ ...procurios.clientCredentials({ ... }), isGlobal: true })] })`
 */
export class ProdoAuthModule implements NestModule, OnApplicationShutdown {
  constructor(private readonly client: Client) {}

  /**
   * A client from options known now; none (or only `name`, `isGlobal`, `http`) reads PRODO_AUTH_*.
   * @throws ConfigError here, naming every bad option or variable
   */
  static forRoot(options: ProdoAuthModuleOptions = {}): DynamicModule {
    // Checked now, as `prodoAuth()` is in Express: nothing is opened, and a bad option (or
    // PRODO_AUTH_* variable) throws one ConfigError here. The app's own client is built at bootstrap.
    void createProdoAuth(split(options).client).close();
    return ProdoAuthModule.forRootAsync({ name: options.name, isGlobal: options.isGlobal, useFactory: () => options });
  }

  /**
   * A client from options made at bootstrap, e.g. from `ConfigService`:
   * `forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ ... }) })`.
   */
  static forRootAsync(options: ProdoAuthModuleAsyncOptions): DynamicModule {
    const name = options.name ?? 'default';
    const client = { provide: getTokenClientToken(name), useFactory: (c: Client): TokenClient | undefined => (c.built.mode === 'service' ? c.built.client : undefined), inject: [CLIENT] };
    const http = { provide: getHttpServiceToken(name), useFactory: (c: Client) => c.http, inject: [CLIENT] };
    return {
      module: ProdoAuthModule,
      global: options.isGlobal === true,
      imports: options.imports ?? [],
      providers: [
        ...optionsProviders(options),
        { provide: CLIENT, useFactory: (o: ProdoAuthModuleOptions | undefined) => build(name, o), inject: [OPTIONS] },
        client,
        http,
        { provide: APP_FILTER, useClass: ProdoAuthExceptionFilter },
      ],
      exports: [client.provide, http.provide],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    const middleware = authMiddleware(this.client.name, this.client.built);
    if (middleware !== undefined) consumer.apply(middleware).forRoutes('*');
  }

  /** `app.close()`, or a signal with `enableShutdownHooks()`: the client, its timers and sockets. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
Module({})(ProdoAuthModule);
Inject(CLIENT)(ProdoAuthModule, undefined, 0);
