/**
 * Procurios: authorization code for user-delegated access, client credentials for server to
 * server, and a versioned vendor media type on every API call.
 *
 * Quirks of the vendor doc (vendor-docs/002), and what this preset does about them:
 * - The authorization URL template says `grant_type=code` where its example says
 *   `response_type=code`: both are sent, so either reading works.
 * - The redirect parameter is `redirect_url`, not RFC 6749's `redirect_uri`: the authorization URL
 *   carries both, the code exchange carries `redirect_url`.
 * - The code exchange uses the non-standard `grant_type=code`, with `client_id` and
 *   `client_secret` in the body (client_secret_post).
 * - The code exchange answers with only `access_token`, written in the doc with single quotes
 *   (`{'access_token': '...'}`): both real JSON and that form are read. No `token_type` means
 *   Bearer; no `expires_in` and no refresh token mean the token is used until the API rejects it,
 *   then ReauthenticationRequiredError sends the user to log in again.
 * - Client credentials send `Accept: application/json` and the scopes space-separated, as shown.
 * - API calls must send `Accept: application/vnd.procurios.application+json; version=1`: it is
 *   the client's default API header, kept unless a request sets its own Accept.
 * - PKCE (S256) and `state` are sent although the doc does not mention them: servers ignore
 *   unknown parameters, and they protect the login when supported.
 */
import { authorizationCodeGrant } from '../grants/authorization-code.js';
import { clientCredentialsGrant } from '../grants/client-credentials.js';
import type { TokenClientOptions } from '../token-client.js';
import { absoluteUrl, httpUrl, optional, parseOptions, scope, secret, text } from '../validation.js';

/** The media type every Procurios API request must accept. */
export const PROCURIOS_MEDIA_TYPE = 'application/vnd.procurios.application+json; version=1';

export interface ProcuriosClientCredentialsOptions {
  /** The token request endpoint URL you received. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** At least one scope to claim. */
  scope?: string | string[] | undefined;
  /** @default the origin of tokenUrl */
  apiUrl?: string | undefined;
}

export interface ProcuriosAuthorizationCodeOptions extends ProcuriosClientCredentialsOptions {
  /** The client authorization endpoint URL you received. */
  authorizeUrl: string;
  /** One of the redirect URLs registered with Procurios. */
  redirectUri: string;
}

export interface ProcuriosPreset {
  clientCredentials(options: ProcuriosClientCredentialsOptions): TokenClientOptions;
  authorizationCode(options: ProcuriosAuthorizationCodeOptions): TokenClientOptions;
}

const ccSchema = {
  tokenUrl: httpUrl,
  clientId: text(),
  clientSecret: secret(),
  scope: optional(scope),
  apiUrl: optional(httpUrl),
};
const codeSchema = { ...ccSchema, authorizeUrl: httpUrl, redirectUri: absoluteUrl };

const apiHeaders = (): Record<string, string> => ({ accept: PROCURIOS_MEDIA_TYPE });

/**
 * The Procurios presets.
 *
 * @example
 * const client = createTokenClient(procurios.clientCredentials({ tokenUrl, clientId, clientSecret, scope: 'profile' }));
 */
export const procurios: ProcuriosPreset = {
  clientCredentials(options) {
    const o = parseOptions(ccSchema, options, 'procurios.clientCredentials');
    return {
      grant: clientCredentialsGrant({
        tokenUrl: o.tokenUrl,
        clientId: o.clientId,
        clientSecret: o.clientSecret,
        clientAuth: 'client_secret_post',
        scope: o.scope,
      }),
      apiUrl: o.apiUrl ?? new URL(o.tokenUrl).origin,
      apiHeaders: apiHeaders(),
    };
  },
  authorizationCode(options) {
    const o = parseOptions(codeSchema, options, 'procurios.authorizationCode');
    return {
      grant: authorizationCodeGrant({
        authorizeUrl: o.authorizeUrl,
        tokenUrl: o.tokenUrl,
        clientId: o.clientId,
        clientSecret: o.clientSecret,
        clientAuth: 'client_secret_post',
        redirectUri: o.redirectUri,
        redirectUriParam: 'redirect_url',
        scope: o.scope,
        authorizeParams: { grant_type: 'code', redirect_uri: o.redirectUri },
        tokenParams: { grant_type: 'code' },
        lenientJson: true,
      }),
      apiUrl: o.apiUrl ?? new URL(o.tokenUrl).origin,
      apiHeaders: apiHeaders(),
    };
  },
};
