/** `TokenClient#fetch`: the client's own fetch, through undici and the client's dispatcher. */
import type { Dispatcher, RequestInit, Response } from 'undici';
import { ConfigError } from '../errors.js';
import { loadUndici } from '../load-undici.js';
import type { TokenClient } from '../token-client.js';
import { fetchWithToken } from './authorized-fetch.js';
import { urlResolver, type UrlResolver } from './resolve-url.js';

/** Per client, its apiUrl's resolver (and the inputs it has resolved). */
const resolvers = new WeakMap<TokenClient, UrlResolver>();

function resolverOf(client: TokenClient): UrlResolver {
  let resolve = resolvers.get(client);
  if (resolve === undefined) resolvers.set(client, (resolve = urlResolver(client.apiUrl)));
  return resolve;
}

/**
 * Resolves `input` as `createAuthorizedFetch` does (a path joins the apiUrl's path; an absolute URL
 * stays absolute), refuses any origin but the API's, and sends that same URL with the token (one
 * retry on a rejection).
 *
 * @internal
 */
export async function clientFetch(
  client: TokenClient,
  apiOrigin: string | undefined,
  input: string | URL,
  init: RequestInit,
  dispatcher: () => Promise<Dispatcher>,
): Promise<Response> {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new ConfigError('fetch() takes a URL string or a URL object');
  }
  const url = resolverOf(client)(typeof input === 'string' ? input : input.href);
  if (apiOrigin !== undefined && url.origin !== apiOrigin) {
    throw new ConfigError(`Refusing to send the access token to ${url.origin}: this client's apiUrl allows only ${apiOrigin}`);
  }
  const [through, { fetch }] = await Promise.all([dispatcher(), loadUndici()]);
  return fetchWithToken(client, url, init, (i) => fetch(url.href, { ...i, dispatcher: through } as RequestInit));
}
