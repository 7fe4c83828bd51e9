/** `TokenClient#fetch`: the client's own fetch, through undici and the client's dispatcher. */
import { fetch as undiciFetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { ConfigError } from '../errors.js';
import type { TokenClient } from '../token-client.js';
import { fetchWithToken } from './authorized-fetch.js';

/**
 * Resolves `input` against the client's apiUrl, refuses any origin but the API's, and sends it
 * with the token (one retry on a rejection).
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
  if (!URL.canParse(String(input), client.apiUrl)) {
    throw new ConfigError(`fetch() needs an absolute URL, or a path with the client's apiUrl set`);
  }
  const url = new URL(input, client.apiUrl);
  if (apiOrigin !== undefined && url.origin !== apiOrigin) {
    throw new ConfigError(`Refusing to send the access token to ${url.origin}: this client's apiUrl allows only ${apiOrigin}`);
  }
  const through = await dispatcher();
  return fetchWithToken(client, url, init, (i) => undiciFetch(url, { ...i, dispatcher: through } as RequestInit));
}
