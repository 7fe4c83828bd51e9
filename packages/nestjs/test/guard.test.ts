/**
 * ProdoAuthGuard and @ProdoAuth() in user mode, on both platforms, with an app whose own
 * catch-all filter (app.useGlobalFilters) takes precedence over the module's: the guard's
 * HttpException still redirects browsers and answers API calls 401 login_required.
 */
import 'reflect-metadata';
import { Catch, Controller, Get, HttpException, UseGuards, type ArgumentsHost, type ExceptionFilter, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { procurios } from '@prodo-auth/core';
import type { UserAuth } from '@prodo-auth/core/adapter';
import { Browser } from '@prodo-auth/adapter-suite';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { ProdoAuth, ProdoAuthGuard, ProdoAuthModule } from '../src/index.js';
import { nestVersion, type Platform, startNest } from './app.js';

const SECRET = 'the nest guard test session secret, 32+ characters';
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

@Controller()
class ProfileController {
  @Get('profile')
  @UseGuards(ProdoAuthGuard)
  profile(@ProdoAuth() auth: UserAuth): { authenticated: boolean } {
    return { authenticated: auth.isAuthenticated };
  }
}

/** The kind of filter many apps have: HttpExceptions by their status and body, anything else 500. */
@Catch()
class HttpStatusFilter implements ExceptionFilter {
  constructor(private readonly app: () => INestApplication) {}
  catch(error: unknown, host: ArgumentsHost): void {
    const adapter = this.app().getHttpAdapter();
    const res = host.switchToHttp().getResponse();
    if (error instanceof HttpException) adapter.reply(res, error.getResponse(), error.getStatus());
    else adapter.reply(res, { error: 'app_error' }, 500);
  }
}

for (const platform of ['express', 'fastify'] as Platform[]) {
  describe(`nest ${nestVersion} (platform-${platform}): ProdoAuthGuard`, () => {
    async function app(): Promise<{ mock: MockServer<'procurios'>; url: string }> {
      const mock = (await startMockServer({ vendor: 'procurios' })) as MockServer<'procurios'>;
      open.push(mock);
      const holder: { app?: INestApplication } = {};
      // The redirect URI needs the app's port: a first app finds a free one.
      const probe = await startNest(platform, { imports: [], controllers: [] });
      const port = Number(new URL(probe.url).port);
      await probe.app.close();
      const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
      const { clientId, clientSecret, scope } = mock.credentials;
      const options = {
        ...procurios.authorizationCode({ authorizeUrl: mock.authorizeUrl!, tokenUrl: mock.tokenUrl, clientId, clientSecret, redirectUri, scope, apiUrl: mock.apiUrl }),
        redirectUri,
        sessionSecret: SECRET,
      };
      const started = await startNest(platform, { imports: [ProdoAuthModule.forRoot(options)], controllers: [ProfileController], port, filter: new HttpStatusFilter(() => holder.app!) });
      holder.app = started.app;
      open.push(started.app);
      return { mock, url: started.url };
    }

    it("with the app's own catch-all filter first: a browser is redirected to the login, an API call gets 401 login_required, a signed-in user passes", async () => {
      const { url } = await app();
      const browser = new Browser(url);
      const page = await browser.send('/profile?tab=2');
      expect([page.status, page.location, page.cacheControl]).toEqual([302, '/auth/login?returnTo=%2Fprofile%3Ftab%3D2', 'no-store']);
      const api = await new Browser(url).api('/profile');
      expect([api.status, (JSON.parse(api.body) as { error?: string }).error]).toEqual([401, 'login_required']);
      const back = await browser.login('?returnTo=%2Fprofile');
      expect([back.status, back.location]).toEqual([302, '/profile']);
      const profile = await browser.api('/profile');
      expect([profile.status, JSON.parse(profile.body)]).toEqual([200, { authenticated: true }]);
    });
  });
}
