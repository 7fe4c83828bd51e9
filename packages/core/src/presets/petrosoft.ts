/**
 * Petrosoft: JSON login and refresh endpoints in front of a Keycloak realm.
 *
 * Quirks of the vendor doc (vendor-docs/003), and what this preset does about them:
 * - Login is `POST {baseUrl}/v1/auth/token` with a JSON body `{ login, password }`, refresh is
 *   `POST {baseUrl}/v1/auth/refresh_token` with `{ refresh_token }`: no OAuth form grant.
 * - The doc says `expires_in` and `refresh_expires_in` are in minutes; its example (86400, and
 *   the JWT's `exp - iat` = 86400) is in seconds. Both are read as seconds and the JWT `exp` wins
 *   when earlier: under the seconds reading that is exact, under the minutes reading the token is
 *   merely refreshed early. Reading minutes would use tokens 60 times past their death.
 * - The refresh expiry does not slide: a refresh answer counts down to the original login's end
 *   (86373 after 86400 in the doc). Each answer's own values are used, counted from its request.
 * - Errors come in two shapes: OAuth `{ error, error_description }` for bad credentials, and
 *   `{ success: false, message, http_code: 500, ... }` for everything else, including every
 *   refresh failure. A refresh 500 is treated as a spent refresh token: the client logs in again
 *   with the stored credentials rather than resending it.
 * - The refresh 500 echoes the refresh token in its message ("JWT missing parts ... Token: eyJ...").
 *   Messages are redacted before they reach an error.
 * - `token_type` is lower-case `bearer`: the header is always `Bearer <token>`.
 */
import { jsonLoginGrant } from '../grants/json-login.js';
import type { TokenClientOptions } from '../token-client.js';
import { httpUrl, optional, parseOptions, secret, text } from '../validation.js';

export interface PetrosoftOptions {
  /** The API user's email, entered as login when the user was created. */
  login: string;
  password: string;
  /** The Authorization API's base URL; `/v1/auth/token` and `/v1/auth/refresh_token` are under it. */
  baseUrl: string;
  /**
   * The API that gets the token, when it is not at `baseUrl` (the mock server's sample API, another
   * environment). Relative `fetch` URLs resolve against it.
   * @default baseUrl
   */
  apiUrl?: string | undefined;
}

const schema = {
  login: text(),
  password: secret(),
  baseUrl: httpUrl,
  apiUrl: optional(httpUrl),
};

/**
 * Options for `createTokenClient` that log in to Petrosoft.
 *
 * @example
 * const client = createTokenClient(petrosoft({ login: 'api@example.com', password, baseUrl }));
 */
export function petrosoft(options: PetrosoftOptions): TokenClientOptions {
  const o = parseOptions(schema, options, 'petrosoft');
  const base = o.baseUrl.replace(/\/+$/, '');
  return {
    grant: jsonLoginGrant({
      tokenUrl: `${base}/v1/auth/token`,
      refreshUrl: `${base}/v1/auth/refresh_token`,
      usernameField: 'login',
      username: o.login,
      password: o.password,
      expiresInUnit: 'seconds',
    }),
    apiUrl: o.apiUrl ?? base,
  };
}
