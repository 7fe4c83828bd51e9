/**
 * @prodo-auth/axios: a prodo-auth TokenClient as a pair of Axios interceptors.
 * @packageDocumentation
 */
import { allowedOrigins, bodyNotReplayableError, isReplayable, isTokenRejection, tokenOf } from '@prodo-auth/core';
import type { OriginMatcher, OriginOptions, TokenClient } from '@prodo-auth/core';
import type { AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { isMasked, maskError, maskResponse } from './mask.js';
import { originGate, requestUrl } from './request-url.js';

/** Options of {@link attachProdoAuth}. */
export type AttachProdoAuthOptions = OriginOptions;

/**
 * Marks a request whose Authorization this adapter added. The value itself is kept in `added`,
 * keyed by the mark, never on the config: axios copies the config into every AxiosError, and
 * `inspect(err, { showHidden: true })` prints symbol keys. A WeakMap rather than a fingerprint,
 * because a 401 must invalidate exactly the token that request used (core's `invalidate(token)`
 * compares values), and an object rather than the config itself as the key, so that a request
 * interceptor that copies the config (`{ ...config }`) keeps the mark.
 */
class AddedAuthorization {}
const MARK = Symbol('prodo-auth.authorization');
const added = new WeakMap<AddedAuthorization, string>();
// The mark of the last header added: one per token, not one per request.
let lastMark: AddedAuthorization | undefined;
let lastHeader: string | undefined;
function markOf(header: string): AddedAuthorization {
  if (header !== lastHeader || lastMark === undefined) {
    lastMark = new AddedAuthorization();
    lastHeader = header;
    added.set(lastMark, header);
  }
  return lastMark;
}
/** Set when a redirect left the allowed origins: a 401 from there says nothing about our token. */
const AWAY = Symbol('prodo-auth.redirected-away');
// A string key: the retry goes through axios's mergeConfig, which drops symbol keys before 1.19.
const RETRIED = 'prodoAuthRetried';
// Axios's own default Accept: a request that still has it did not choose one.
const AXIOS_DEFAULT_ACCEPT = 'application/json, text/plain, */*';

type Config = InternalAxiosRequestConfig & { [MARK]?: AddedAuthorization; [AWAY]?: true; [RETRIED]?: true };

/** The Authorization this adapter added to a request, if it did. */
const addedTo = (config: Config | undefined): string | undefined => {
  const mark = config?.[MARK];
  return mark === undefined ? undefined : added.get(mark);
};

const attachments = new WeakMap<AxiosInstance, () => void>();

/**
 * Adds the client's `Authorization` (and its API headers, such as a vendor media type) to requests
 * for the allowed origins; on a 401 or a Bearer `invalid_token` challenge, invalidates the token
 * that request used, gets a new one (one token request however many 401s) and retries it once.
 * Attaching again to the same instance replaces the earlier attachment.
 *
 * Every AxiosError that passes through the response interceptor (the retry's included) has the
 * Authorization added here masked (`Bearer [REDACTED]`) in its config, request and response, so
 * logging it never prints the token; it stays axios's error, code, status and response intact.
 *
 * @param instance An Axios instance, e.g. `axios.create({ baseURL })`.
 * @param client The token client whose tokens to send.
 * @param options `origins`: the origins whose requests get the token.
 *   @default the origin of `instance.defaults.baseURL`, else of `client.apiUrl`
 *   `dangerouslyAllowInsecureHttp`: allow a plain-http origin off loopback.
 *   @default false
 * @returns A function that removes both interceptors.
 * @throws {ConfigError} when there is no origin to send the token to (never every host), or an
 *   origin is plain http off loopback without `dangerouslyAllowInsecureHttp: true`.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * const detach = attachProdoAuth(api, createTokenClient(options));
 * const { data } = await api.get('/v1/things');
 */
export function attachProdoAuth(instance: AxiosInstance, client: TokenClient, options: AttachProdoAuthOptions = {}): () => void {
  const allowed = allowedOrigins(options, instance.defaults.baseURL, client.apiUrl);
  const gate = originGate(allowed);
  const urlOf = (config: Config): string => requestUrl(config, () => instance.getUri(config));
  attachments.get(instance)?.();

  const authorize = async (config: Config): Promise<Config> => {
    // The token is awaited here, before the adapter runs, so a request waiting for it holds no socket.
    const url = urlOf(config);
    // A request that carries its own Authorization is sent as it is, as with core's fetch. One
    // that carries ours (masked in an error, or as sent) is an error's config sent again, as
    // axios-retry does: it gets the current token.
    const own = config.headers.get('authorization');
    const earlier = addedTo(config);
    // A mark copied from an earlier send says nothing about this one (assigned, not deleted: a
    // delete would turn the config into a slow dictionary object).
    if (earlier !== undefined) config[MARK] = undefined;
    if (own !== undefined && own !== null && own !== '' && !isMasked(own) && own !== earlier) return config;
    // Ours from an earlier send: never left on a request to an origin that is not allowed.
    if (own !== undefined) config.headers.delete('authorization');
    if (!gate(url)) return config;
    const headers = await client.requestHeaders({ method: (config.method ?? 'get').toUpperCase(), url });
    for (const name in headers) {
      const own = config.headers.get(name);
      if (own === undefined || own === null || own === '' || (name === 'accept' && own === AXIOS_DEFAULT_ACCEPT)) config.headers.set(name, headers[name]!);
    }
    config[MARK] = markOf(headers.authorization!);
    config.beforeRedirect = guardRedirects(allowed, config);
    return config;
  };

  /** The token to invalidate and retry with a new one, when this response rejects it. */
  const rejected = (response: AxiosResponse | undefined, config: Config | undefined): string | undefined => {
    const header = addedTo(config);
    if (response === undefined || header === undefined || config?.[AWAY] || config?.[RETRIED]) return undefined;
    // The common answer, decided without building the headers view below.
    if (response.status !== 401 && response.headers['www-authenticate'] === undefined) return undefined;
    const headers = { get: (name: string) => (response.headers[name] as string | undefined) ?? null };
    return isTokenRejection({ status: response.status, headers }) ? tokenOf(header) : undefined;
  };
  const retry = async (response: AxiosResponse, config: Config, token: string): Promise<AxiosResponse> => {
    await client.invalidate(token);
    if (!isReplayable(config.data)) {
      // The response rides along non-enumerably, its Authorization masked like an error's.
      maskResponse(response, addedTo(config)!);
      const method = (config.method ?? 'get').toUpperCase();
      throw bodyNotReplayableError(response, response.status, method, new URL(urlOf(config)));
    }
    // The retry goes through the request interceptor again, which adds the new token (and masks
    // its error); the catch is for an error that skipped it, such as after a detach.
    config.headers.delete('authorization');
    return instance.request({ ...config, [RETRIED]: true } as Config).catch((error: unknown) => {
      throw masked(error);
    });
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
      if (token === undefined) throw masked(error);
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

/** The error with the Authorization this adapter added to its request masked; still an AxiosError. */
function masked(error: unknown): unknown {
  const { config, response } = (error ?? {}) as { config?: Config; response?: AxiosResponse };
  for (const header of new Set([addedTo(config), addedTo(response?.config as Config | undefined)])) {
    if (header !== undefined) maskError(error, header);
  }
  return error;
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
