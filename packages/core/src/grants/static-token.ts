import { ReauthenticationRequiredError } from '../errors.js';
import { cacheKeyOf, type Grant } from '../grant.js';
import { SecretSet } from '../redact.js';
import { jwtExpiry } from '../token-response.js';
import { TokenSet } from '../token-set.js';
import { number, optional, parseOptions, type Check } from '../validation.js';

export interface StaticTokenGrantOptions {
  /** The access token, with or without a leading `Bearer ` (as copied from a browser). */
  token: string;
  /** When it expires (epoch ms). Default: the JWT `exp`, else unknown. */
  expiresAt?: number | undefined;
}

/** The token as pasted, with its `Bearer ` prefix stripped. */
const token: Check<string> = (value, report) => {
  const t = typeof value === 'string' ? value.replace(/^\s*bearer(\s+|$)/i, '').trim() : '';
  if (t.length === 0 || /\s/.test(t)) report('must be a single token, optionally prefixed with "Bearer "');
  return t;
};

const schema = { token, expiresAt: optional(number({ positive: true })) };

/**
 * A token obtained elsewhere (a pasted browser token, a CI secret). It cannot be renewed: once it
 * expires or the API rejects it, the client throws ReauthenticationRequiredError.
 *
 * @example
 * const client = createTokenClient({ grant: staticTokenGrant({ token: process.env.API_TOKEN! }) });
 */
export function staticTokenGrant(options: StaticTokenGrantOptions): Grant {
  const o = parseOptions(schema, options, 'staticTokenGrant');
  const expiresAt = o.expiresAt ?? jwtExpiry(o.token);
  let rejected = false;
  return {
    type: 'static',
    cacheKey: cacheKeyOf('static', o.token),
    secrets: new SecretSet().add(o.token),
    get canObtain() {
      return !rejected && (expiresAt === undefined || Date.now() < expiresAt);
    },
    obtain() {
      if (rejected || (expiresAt !== undefined && Date.now() >= expiresAt)) {
        return Promise.reject(
          new ReauthenticationRequiredError(
            rejected ? 'The static token was rejected by the API: supply a new one' : 'The static token has expired: supply a new one',
          ),
        );
      }
      return Promise.resolve(new TokenSet({ accessToken: o.token, tokenType: 'Bearer', expiresAt }));
    },
    rejected(accessToken) {
      if (accessToken === o.token) rejected = true;
    },
  };
}
