/**
 * The adapter suite's app (see AppSpec in @prodo-auth/adapter-suite) as a Nest app, on the Express
 * or the Fastify platform, built with @nestjs/testing and listening on 127.0.0.1. Decorators get
 * no metadata here (vitest's transform emits none): every injection names its token.
 */
import 'reflect-metadata';
import { Catch, Controller, Get, Inject, Res, UseGuards, type ArgumentsHost, type ExceptionFilter, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import corePackage from '@nestjs/core/package.json' with { type: 'json' };
import type { AppSpec, RunningApp } from '@prodo-auth/adapter-suite';
import { ProdoAuth, ProdoAuthGuard, ProdoAuthModule, type ProdoAuthModuleOptions, type RequestAuth } from '../src/index.js';

export type Platform = 'express' | 'fastify';

/** The Nest under test, as these files resolve it: the compat packages run them with their own. */
export const nestVersion: string = corePackage.version;

/**
 * An error the adapter does not answer: 500 `app_error`, so that "never a 500" can fail. A
 * catch-all filter, registered as Nest's docs say, before the specific ones (the module's).
 */
@Catch()
class AppErrorFilter implements ExceptionFilter {
  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}
  catch(_error: unknown, host: ArgumentsHost): void {
    this.host.httpAdapter.reply(host.switchToHttp().getResponse(), { error: 'app_error' }, 500);
  }
}

type Metadata = ModuleMetadata;

/**
 * Starts a Nest app on the platform, on 127.0.0.1:{port}; its catch-all filter is AppErrorFilter
 * unless `filter` replaces it (then given to app.useGlobalFilters()).
 */
export async function startNest(
  platform: Platform,
  { imports, controllers, port = 0, filter }: { imports: Metadata['imports']; controllers: Metadata['controllers']; port?: number; filter?: ExceptionFilter },
): Promise<{ app: INestApplication; url: string }> {
  const providers = filter === undefined ? [{ provide: APP_FILTER, useClass: AppErrorFilter }] : [];
  const moduleRef = await Test.createTestingModule({ imports, controllers, providers }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : (new FastifyAdapter() as never), { logger: false });
  if (filter !== undefined) app.useGlobalFilters(filter);
  await app.listen(port, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

export async function startNestApp(platform: Platform, spec: AppSpec): Promise<RunningApp> {
  @Controller()
  class SuiteController {
    constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

    private async forward(auth: RequestAuth, res: unknown): Promise<void> {
      const api = await auth.fetch(spec.apiPath);
      this.host.httpAdapter.setHeader(res, 'content-type', 'application/json');
      this.host.httpAdapter.reply(res, await api.text(), api.status);
    }

    @Get('api')
    api(@ProdoAuth() auth: RequestAuth, @Res() res: unknown): Promise<void> {
      return this.forward(auth, res);
    }

    @Get('private/api')
    @UseGuards(ProdoAuthGuard)
    privateApi(@ProdoAuth() auth: RequestAuth, @Res() res: unknown): Promise<void> {
      return this.forward(auth, res);
    }

    @Get('state')
    state(@ProdoAuth() auth: RequestAuth): { authenticated: boolean | null } {
      return { authenticated: 'isAuthenticated' in auth ? auth.isAuthenticated : null };
    }
  }
  const { app, url } = await startNest(platform, { imports: [ProdoAuthModule.forRoot(spec.options as ProdoAuthModuleOptions)], controllers: [SuiteController], port: spec.port });
  return { url, close: () => app.close() };
}
