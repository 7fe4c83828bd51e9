/**
 * The types users see: the module's options, the decorators where Nest takes them, the tokens.
 * Checked by `tsc` (the typecheck task); vitest only runs it.
 */
import type { CanActivate, DynamicModule, ExceptionFilter } from '@nestjs/common';
import type { HttpService } from '@nestjs/axios';
import { describe, expectTypeOf, it } from 'vitest';
import { procurios, type TokenClient } from '@prodo-auth/core';
import type { ServiceAuth, UserAuth } from '@prodo-auth/core/adapter';
import {
  getHttpServiceToken,
  getTokenClientToken,
  InjectHttpService,
  InjectTokenClient,
  ProdoAuth,
  ProdoAuthModule,
  type ProdoAuthExceptionFilter,
  type ProdoAuthGuard,
  type ProdoAuthClientOptions,
  type ProdoAuthOptionsFactory,
  type RequestAuth,
} from '../src/index.js';

const preset = procurios.clientCredentials({ tokenUrl: 'https://auth.example.com/token', clientId: 'c', clientSecret: 's' });

describe('types', () => {
  it('forRoot and forRootAsync take the client options and the extras, and give a DynamicModule', () => {
    const use = (): void => {
      expectTypeOf(ProdoAuthModule.forRoot()).toEqualTypeOf<DynamicModule>();
      ProdoAuthModule.forRoot({ ...preset, name: 'procurios', isGlobal: true, http: { origins: ['https://api.example.com'], axios: { timeout: 5000 } } });
      ProdoAuthModule.forRootAsync({ name: 'x', inject: ['CONFIG'], useFactory: (config: { url: string }) => ({ ...preset, apiUrl: config.url }) });
      ProdoAuthModule.forRootAsync({ useFactory: async () => undefined });
      class Factory implements ProdoAuthOptionsFactory {
        createProdoAuthOptions(): ProdoAuthClientOptions {
          return preset;
        }
      }
      ProdoAuthModule.forRootAsync({ useClass: Factory });
      // @ts-expect-error options are an object, not a URL
      ProdoAuthModule.forRoot('https://auth.example.com/token');
      // @ts-expect-error a name is a string
      ProdoAuthModule.forRoot({ ...preset, name: 42 });
      // @ts-expect-error the factory gives options, not a URL
      ProdoAuthModule.forRootAsync({ useFactory: () => 'https://auth.example.com/token' });
      // @ts-expect-error useClass is a class that makes options
      ProdoAuthModule.forRootAsync({ useClass: class {} });
    };
    void use;
  });

  it('the decorators fit where Nest takes them; the tokens are strings; the guard and filter are Nest enhancers', () => {
    expectTypeOf(InjectTokenClient).returns.toEqualTypeOf<PropertyDecorator & ParameterDecorator>();
    expectTypeOf(InjectHttpService).parameter(0).toEqualTypeOf<string | undefined>();
    expectTypeOf(ProdoAuth).returns.toEqualTypeOf<ParameterDecorator>();
    expectTypeOf(getTokenClientToken).returns.toBeString();
    expectTypeOf(getHttpServiceToken).returns.toBeString();
    expectTypeOf<ProdoAuthGuard>().toMatchTypeOf<CanActivate>();
    expectTypeOf<ProdoAuthExceptionFilter>().toMatchTypeOf<ExceptionFilter>();
    expectTypeOf<RequestAuth>().toEqualTypeOf<ServiceAuth | UserAuth>();
    const use = (): void => {
      class Uses {
        constructor(
          @InjectTokenClient() readonly client: TokenClient,
          @InjectHttpService('procurios') readonly http: HttpService,
        ) {}
        handler(@ProdoAuth() auth: UserAuth, @ProdoAuth('procurios') service: ServiceAuth): void {
          void auth;
          void service;
        }
      }
      void Uses;
      // @ts-expect-error a client's name is a string
      ProdoAuth(42);
      // @ts-expect-error a client's name is a string
      getTokenClientToken({ name: 'x' });
    };
    void use;
  });
});
