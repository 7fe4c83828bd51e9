/**
 * Prodoscore: a Keycloak realm with a public client, and pasted browser tokens.
 *
 * Quirks of the vendor doc (vendor-docs/000), and what this preset does about them:
 * - The client is public: the "Client ID" is the Prodoscore Customer ID and there is no secret, so
 *   `client_id` goes in the form body (client auth `none`), never in a Basic header.
 * - The token response carries Keycloak's `refresh_expires_in` (7 days) beside `expires_in`
 *   (10 hours): both are honoured, so an expired refresh token is never sent; a value of 0 (an
 *   offline token) means no expiry.
 * - Access and refresh tokens are JWTs: their `exp` wins when earlier than the stated lifetimes.
 * - A browser token is copied as the whole header value, "Bearer eyJ...": the prefix is stripped.
 *   It lives as long as the browser session: it is used until its JWT `exp` or until the API
 *   rejects it, then ReauthenticationRequiredError asks for a new one.
 */
import { passwordGrant } from '../grants/password.js';
import { staticTokenGrant } from '../grants/static-token.js';
import type { TokenClientOptions } from '../token-client.js';
import { httpUrl, optional, parseOptions, secret, text } from '../validation.js';

export const PRODOSCORE_TOKEN_URL = 'https://auth.ag.prodoscore.com/realms/ind-prod/protocol/openid-connect/token';
export const PRODOSCORE_API_URL = 'https://api.ag.prodoscore.com';

export interface ProdoscoreOptions {
  /** Your Prodoscore Customer ID. */
  clientId: string;
  /** The user's email. */
  username: string;
  password: string;
  /** @default PRODOSCORE_TOKEN_URL */
  tokenUrl?: string | undefined;
  /** @default PRODOSCORE_API_URL */
  apiUrl?: string | undefined;
}

export interface ProdoscoreBrowserTokenOptions {
  /** @default PRODOSCORE_API_URL */
  apiUrl?: string | undefined;
}

/** The Prodoscore preset, and `prodoscore.browserToken` for a token pasted from the portal. */
export interface ProdoscorePreset {
  (options: ProdoscoreOptions): TokenClientOptions;
  /** A token copied from the portal's Authorization header, with or without `Bearer `. */
  browserToken(token: string, options?: ProdoscoreBrowserTokenOptions): TokenClientOptions;
}

const schema = {
  clientId: text('is required (your Prodoscore Customer ID)'),
  username: text(),
  password: secret(),
  tokenUrl: optional(httpUrl),
  apiUrl: optional(httpUrl),
};
const browserTokenSchema = { apiUrl: optional(httpUrl) };

function prodoscoreLogin(options: ProdoscoreOptions): TokenClientOptions {
  const o = parseOptions(schema, options, 'prodoscore');
  return {
    grant: passwordGrant({
      tokenUrl: o.tokenUrl ?? PRODOSCORE_TOKEN_URL,
      clientId: o.clientId,
      clientAuth: 'none',
      username: o.username,
      password: o.password,
    }),
    apiUrl: o.apiUrl ?? PRODOSCORE_API_URL,
  };
}

/**
 * Options for `createTokenClient` that log in to Prodoscore with the Login API.
 *
 * @example
 * const client = createTokenClient(prodoscore({ clientId: customerId, username: email, password }));
 * const res = await client.fetch('/...');
 */
export const prodoscore: ProdoscorePreset = Object.assign(prodoscoreLogin, {
  browserToken(token: string, options: ProdoscoreBrowserTokenOptions = {}): TokenClientOptions {
    const apiUrl = parseOptions(browserTokenSchema, options, 'prodoscore.browserToken').apiUrl;
    return { grant: staticTokenGrant({ token }), apiUrl: apiUrl ?? PRODOSCORE_API_URL };
  },
});
