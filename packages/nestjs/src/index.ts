/**
 * `@prodo-auth/nestjs`: `ProdoAuthModule.forRoot()`. A Nest idiom over `@prodo-auth/core/adapter`:
 * each client's TokenClient and HttpService as providers, core's login flow as a middleware, a
 * guard and a parameter decorator that read its result, and a filter that writes core's answers.
 * Every decision (sessions, state and PKCE, refresh, error answers) is core's.
 *
 * No decorator syntax in this package: decorators are applied as functions, so the build needs
 * neither `experimentalDecorators` nor `emitDecoratorMetadata`, and every provider declares what it
 * injects (`@Inject(token)`), as an app compiled by esbuild, swc or tsc alike can resolve.
 * @packageDocumentation
 */
export {
  getHttpServiceToken,
  getTokenClientToken,
  InjectHttpService,
  InjectTokenClient,
  ProdoAuthModule,
  type ProdoAuthClientOptions,
  type ProdoAuthHttpOptions,
  type ProdoAuthModuleAsyncOptions,
  type ProdoAuthModuleExtras,
  type ProdoAuthModuleOptions,
  type ProdoAuthOptionsFactory,
} from './module.js';
export { ProdoAuth, ProdoAuthExceptionFilter, ProdoAuthFlowException, ProdoAuthGuard, type FlowAnswer, type RequestAuth } from './http.js';
