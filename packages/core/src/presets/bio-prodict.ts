/**
 * Bio-Prodict: a Spring OAuth2 server with the password grant and Basic client authentication.
 *
 * Quirks of the vendor doc (vendor-docs/001), and what this preset does about them:
 * - The client authenticates twice: a Basic header of Base64 `client_id:client_secret` ("no
 *   trailing newlines") and `client_id` / `client_secret` in the body, as its parameter table
 *   lists them. The login request sends both; the refresh request, documented with the Basic
 *   header only, sends only the header.
 * - The doc's Basic value is the plain `client_id:client_secret`, without RFC 6749's form
 *   encoding (Spring does not decode it), so it is Base64 of the raw values.
 * - `twofactor` is an optional one-time code. A string is used for the first login only; a
 *   silent re-login needs a function that returns a fresh code each time, otherwise the client
 *   throws ReauthenticationRequiredError instead of replaying a spent code.
 * - "Refresh tokens are not available for all client_id's": without one, an expired token means a
 *   new password login (with a fresh two-factor code).
 * - `token_type` is lower-case `bearer`: the header is always `Bearer <token>`.
 * - The example `expires_in` (43199) is in seconds; there is no refresh expiry in the response.
 * - Spring's refresh error echoes the refresh token ("Invalid refresh token: ..."): redacted.
 */
import type { ClientAuthentication } from '../client-auth.js';
import { ReauthenticationRequiredError } from '../errors.js';
import { passwordGrant, type ParamSource } from '../grants/password.js';
import { SecretSet } from '../redact.js';
import type { TokenClientOptions } from '../token-client.js';
import { func, httpUrl, optional, parseOptions, secret, text, type Check } from '../validation.js';

export const BIO_PRODICT_TOKEN_URL = 'https://api.bio-prodict.nl/oauth/oauth/token';
export const BIO_PRODICT_API_URL = 'https://api.bio-prodict.nl';

export interface BioProdictOptions {
  /** Provided by Bio-Prodict. */
  clientId: string;
  /** Provided by Bio-Prodict. */
  clientSecret: string;
  /** The 3DM account username. */
  username: string;
  /** The 3DM account password. */
  password: string;
  /** A two-factor code (used once), or a function returning a fresh code for every login. */
  twoFactor?: string | (() => string | Promise<string>) | undefined;
  /** @default BIO_PRODICT_TOKEN_URL */
  tokenUrl?: string | undefined;
  /** @default BIO_PRODICT_API_URL */
  apiUrl?: string | undefined;
}

/** A code, or a function that returns a fresh one. */
const twoFactor: Check<string | (() => string | Promise<string>)> = (value, report, options) =>
  typeof value === 'function'
    ? (func(value, report, options) as () => string | Promise<string>)
    : text('must be a code or a function returning a fresh code')(value, report, options);

const schema = {
  clientId: text(),
  clientSecret: secret(),
  username: text(),
  password: secret(),
  twoFactor: optional(twoFactor),
  tokenUrl: optional(httpUrl),
  apiUrl: optional(httpUrl),
};

/** Basic `client_id:client_secret` exactly as the doc writes it: Base64 of the raw values. */
function rawBasic(clientId: string, clientSecret: string): ClientAuthentication {
  const credentials = Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
  return {
    method: 'client_secret_basic',
    clientId,
    secrets: new SecretSet().add(clientSecret, credentials),
    apply({ headers }) {
      headers['authorization'] = `Basic ${credentials}`;
    },
  };
}

/** A one-time code given as a string works for one login only. */
function oneTimeCode(code: string): ParamSource {
  let used = false;
  return () => {
    if (used) {
      throw new ReauthenticationRequiredError(
        'The Bio-Prodict two-factor code was already used: pass twoFactor as a function that returns a fresh code',
      );
    }
    used = true;
    return code;
  };
}

/**
 * Options for `createTokenClient` that log in to Bio-Prodict.
 *
 * @example
 * const client = createTokenClient(bioProdict({ clientId, clientSecret, username, password, twoFactor: () => totp() }));
 */
export function bioProdict(options: BioProdictOptions): TokenClientOptions {
  const o = parseOptions(schema, options, 'bioProdict');
  const extraParams: Record<string, ParamSource> = { client_id: o.clientId, client_secret: o.clientSecret };
  if (options.twoFactor !== undefined) {
    extraParams.twofactor = typeof options.twoFactor === 'string' ? oneTimeCode(options.twoFactor) : options.twoFactor;
  }
  return {
    grant: passwordGrant({
      tokenUrl: o.tokenUrl ?? BIO_PRODICT_TOKEN_URL,
      clientId: o.clientId,
      clientAuth: rawBasic(o.clientId, o.clientSecret),
      username: o.username,
      password: o.password,
      extraParams,
    }),
    apiUrl: o.apiUrl ?? BIO_PRODICT_API_URL,
  };
}
