/**
 * @prodo-auth/axios: a prodo-auth TokenClient as a pair of Axios interceptors.
 * @packageDocumentation
 */
import { allowedOrigins, bodyNotReplayableError, isReplayable, isTokenRejection, tokenOf } from '@prodo-auth/core';
import type { OriginMatcher, OriginOptions, TokenClient } from '@prodo-auth/core';
import type { AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/** Options of {@link attachProdoAuth}. */
export type AttachProdoAuthOptions = OriginOptions;

/** The token a request was sent with, so that its 401 invalidates that token and no newer one. */
const TOKEN = Symbol('prodo-auth.token');
/** Set when a redirect left the allowed origins: a 401 from there says nothing about our token. */
const AWAY = Symbol('prodo-auth.redirected-away');
// A string key: the retry goes through axios's mergeConfig, which drops symbol keys before 1.19.
const RETRIED = 'prodoAuthRetried';
// Axios's own default Accept: a request that still has it did not choose one.
const AXIOS_DEFAULT_ACCEPT = 'application/json, text/plain, */*';
// Axios's isAbsoluteURL: "scheme://" or "//".
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

type Config = InternalAxiosRequestConfig & { [TOKEN]?: string; [AWAY]?: true; [RETRIED]?: true };

const attachments = new WeakMap<AxiosInstance, () => void>();

/**
 * Adds the client's `Authorization` (and its API headers, such as a vendor media type) to requests
 * for the allowed origins; on a 401 or a Bearer `invalid_token` challenge, invalidates the token
 * that request used, gets a new one (one token request however many 401s) and retries it once.
 * Attaching again to the same instance replaces the earlier attachment.
 *
 * @param instance An Axios instance, e.g. `axios.create({ baseURL })`.
 * @param client The token client whose tokens to send.
 * @param options `origins`: the origins whose requests get the token.
 *   @default the origin of `instance.defaults.baseURL`, else of `client.apiUrl`
 * @returns A function that removes both interceptors.
 * @throws {ConfigError} when there is no origin to send the token to: never every host.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * const detach = attachProdoAuth(api, createTokenClient(options));
 * const { data } = await api.get('/v1/things');
 */
export function attachProdoAuth(instance: AxiosInstance, client: TokenClient, options: AttachProdoAuthOptions = {}): () => void {
  const allowed = allowedOrigins(options, instance.defaults.baseURL, client.apiUrl);
  attachments.get(instance)?.();

  const authorize = async (config: Config): Promise<Config> => {
    // The token is awaited here, before the adapter runs, so a request waiting for it holds no socket.
    const url = fullUrl(instance, config);
    // A request that carries its own Authorization is sent as it is, as with core's fetch.
    if (!allowed(url) || config.headers.has('authorization')) return config;
    const headers = await client.requestHeaders({ method: (config.method ?? 'get').toUpperCase(), url });
    for (const name in headers) {
      const own = config.headers.get(name);
      if (own === undefined || own === null || own === '' || (name === 'accept' && own === AXIOS_DEFAULT_ACCEPT)) config.headers.set(name, headers[name]!);
    }
    config[TOKEN] = tokenOf(headers.authorization);
    config.beforeRedirect = guardRedirects(allowed, config);
    return config;
  };

  /** The token to invalidate and retry with a new one, when this response rejects it. */
  const rejected = (response: AxiosResponse | undefined, config: Config | undefined): string | undefined => {
    const token = config?.[TOKEN];
    if (response === undefined || token === undefined || config?.[AWAY] || config?.[RETRIED]) return undefined;
    const headers = { get: (name: string) => (response.headers[name] as string | undefined) ?? null };
    return isTokenRejection({ status: response.status, headers }) ? token : undefined;
  };
  const retry = async (response: AxiosResponse, config: Config, token: string): Promise<AxiosResponse> => {
    await client.invalidate(token);
    if (!isReplayable(config.data)) {
      // The response rides along non-enumerably: its config holds the token.
      const method = (config.method ?? 'get').toUpperCase();
      throw bodyNotReplayableError(response, response.status, method, new URL(fullUrl(instance, config)));
    }
    // The retry goes through the request interceptor again, which adds the new token.
    config.headers.delete('authorization');
    return instance.request({ ...config, [RETRIED]: true } as Config);
  };

  const requestId = instance.interceptors.request.use(authorize);
  const responseId = instance.interceptors.response.use(
    (response) => {
      const token = rejected(response, response.config);
      return token === undefined ? response : retry(response, response.config, token);
    },
    (error: unknown) => {
      const { response, config } = (error ?? {}) as { response?: AxiosResponse; config?: Config };
      const token = rejected(response, config);
      if (token === undefined) throw error;
      return retry(response!, config!, token);
    },
  );
  const detach = (): void => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
    if (attachments.get(instance) === detach) attachments.delete(instance);
  };
  attachments.set(instance, detach);
  return detach;
}

/**
 * Where axios sends the request. A relative url joins the baseURL in every axios 1.x: that hot path
 * is done here, as `getUri()` merges the whole config again, the largest cost of a warm request.
 * Anything else asks axios, whose rules vary by version (`allowAbsoluteUrls`, 1.8+).
 */
function fullUrl(instance: AxiosInstance, config: Config): string {
  const { url = '', baseURL } = config;
  if (!baseURL || ABSOLUTE.test(url)) return instance.getUri(config);
  return url === '' ? baseURL : `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

/** follow-redirects keeps Authorization on a redirect to a subdomain: drop it for every origin not allowed. */
function guardRedirects(allowed: OriginMatcher, config: Config): NonNullable<Config['beforeRedirect']> {
  const next = config.beforeRedirect as ((...args: unknown[]) => void) | undefined;
  return (options, ...details) => {
    if (!allowed(String(options.href))) {
      config[AWAY] = true;
      for (const name of Object.keys(options.headers ?? {})) if (/^authorization$/i.test(name)) delete options.headers[name];
    }
    next?.(options, ...details);
  };
}
