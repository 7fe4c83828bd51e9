/**
 * @prodo-auth/core: OAuth2 grants, a token engine that caches and refreshes, an undici transport,
 * and typed errors that never carry a secret.
 * @packageDocumentation
 */
export {
  clientSecretBasic,
  clientSecretPost,
  noClientAuthentication,
  CLIENT_AUTH_METHODS,
  type ClientAuthentication,
  type ClientAuthMethod,
  type TokenRequestParts,
} from './client-auth.js';
export {
  configFromEnv,
  GRANT_NAMES,
  PRESET_NAMES,
  type Env,
  type GrantName,
  type PresetName,
  type ProdoAuthConfig,
} from './config.js';
export {
  ConfigError,
  ErrorCode,
  httpStatusForError,
  isProdoAuthError,
  OAuthError,
  ProdoAuthError,
  ReauthenticationRequiredError,
  TokenEndpointError,
  type ConfigIssue,
  type OAuthErrorOptions,
  type ProdoAuthErrorOptions,
  type TokenEndpointErrorOptions,
} from './errors.js';
export {
  cacheKeyOf,
  formTokenRequest,
  refreshTokenRequest,
  revokeTokenRequest,
  traceEndpoint,
  type FormRequest,
  type Grant,
  type GrantContext,
  type RequestTrace,
  type RevocableToken,
  type RevocationRequest,
} from './grant.js';
export { discoveryUrls, type ServerMetadata } from './endpoints.js';
export {
  TOKEN_REQUEST_CHANNEL,
  TOKEN_SERVED_CHANNEL,
  type TokenRequestContext,
  type TokenServedMessage,
} from './tracing.js';
export {
  authorizationCodeGrant,
  type AuthorizationCodeGrant,
  type AuthorizationCodeGrantOptions,
  type AuthorizationRequest,
  type AuthorizationRequestOptions,
  type CodeExchange,
} from './grants/authorization-code.js';
export {
  clientCredentialsGrant,
  type ClientCredentialsGrantCommonOptions,
  type ClientCredentialsGrantOptions,
} from './grants/client-credentials.js';
export {
  clientSecretJwt,
  JWT_BEARER_ASSERTION_TYPE,
  privateKeyJwt,
  type AssertionAlgorithm,
  type ClientAssertionOptions,
  type ClientSecretJwtOptions,
  type PrivateKeyInput,
  type PrivateKeyJwtOptions,
  type SecretAssertionAlgorithm,
} from './client-auth-jwt.js';
export {
  selfSignedTlsClientAuth,
  tlsClientAuth,
  type TlsClientAuthentication,
  type TlsClientAuthOptions,
} from './client-auth-mtls.js';
export { jsonLoginGrant, type JsonLoginGrantOptions } from './grants/json-login.js';
export { passwordGrant, type ParamSource, type PasswordGrantOptions } from './grants/password.js';
export { staticTokenGrant, type StaticTokenGrantOptions } from './grants/static-token.js';
export {
  TOKEN_EXCHANGE_GRANT_TYPE,
  TOKEN_TYPES,
  tokenExchangeGrant,
  type ExchangeTokenSource,
  type TokenExchangeGrantOptions,
} from './grants/token-exchange.js';
export { redact, REDACTED, SecretSet } from './redact.js';
export { memoryStore, type MemoryStoreOptions, type TokenStore } from './store.js';
export {
  createTokenClient,
  type OutboundRequest,
  type RefreshErrorEvent,
  type RevokeOptions,
  type RevokeResult,
  type StoreErrorEvent,
  type TokenClient,
  type TokenClientEvents,
  type TokenClientOptions,
  type TokenEvent,
  type TokenRequestEvent,
  type TokenSource,
} from './token-client.js';
export { jwtExpiry, processTokenResponse, responseError, type ExpiresInUnit, type ProcessOptions } from './token-response.js';
export { TokenSet, type StoredTokenSet, type TokenSetInit } from './token-set.js';
export {
  parseRetryAfter,
  Transport,
  type ResponseBody,
  type RetryOptions,
  type TransportOptions,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';
export {
  BIO_PRODICT_API_URL,
  BIO_PRODICT_TOKEN_URL,
  bioProdict,
  type BioProdictOptions,
} from './presets/bio-prodict.js';
export { petrosoft, type PetrosoftOptions } from './presets/petrosoft.js';
export {
  PROCURIOS_MEDIA_TYPE,
  procurios,
  type ProcuriosAuthorizationCodeOptions,
  type ProcuriosClientCredentialsOptions,
  type ProcuriosPreset,
} from './presets/procurios.js';
export {
  PRODOSCORE_API_URL,
  PRODOSCORE_TOKEN_URL,
  prodoscore,
  type ProdoscoreBrowserTokenOptions,
  type ProdoscoreOptions,
  type ProdoscorePreset,
} from './presets/prodoscore.js';
export { allowedOrigins, type OriginMatcher, type OriginOptions } from './outbound/origins.js';
export {
  bodyNotReplayableError,
  createAuthorizedFetch,
  tokenOf,
  type AuthorizedFetchOptions,
  type FetchFunction,
} from './outbound/authorized-fetch.js';
export { authInterceptor, type AuthInterceptorOptions } from './outbound/undici-interceptor.js';
export { isReplayable, isTokenRejection } from './outbound/rejection.js';
