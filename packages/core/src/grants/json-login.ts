import { cacheKeyOf, endpointLabel, traceEndpoint, type Grant, type GrantContext } from '../grant.js';
import { SecretSet } from '../redact.js';
import { processTokenResponse, type ExpiresInUnit } from '../token-response.js';
import type { TokenSet } from '../token-set.js';
import { endpointUrl, insecureField, oneOf, optional, parseOptions, secret, stringRecord, text } from '../validation.js';

export interface JsonLoginGrantOptions {
  /** The login endpoint, which takes the credentials as a JSON body. */
  tokenUrl: string;
  /** The refresh endpoint, which takes `{ refresh_token }`. Without it, an expired token means a new login. */
  refreshUrl?: string | undefined;
  username: string;
  password: string;
  /**
   * The JSON field that carries the username.
   * @default 'username'
   */
  usernameField?: string | undefined;
  /**
   * The JSON field that carries the password.
   * @default 'password'
   */
  passwordField?: string | undefined;
  /**
   * The unit of `expires_in` and `refresh_expires_in` in the responses. A JWT's `exp` still wins
   * when it is earlier.
   * @default 'seconds'
   */
  expiresInUnit?: ExpiresInUnit | undefined;
  /** Extra headers on login and refresh requests. */
  headers?: Record<string, string> | undefined;
  /** @default false */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

const schema = {
  tokenUrl: endpointUrl,
  refreshUrl: optional(endpointUrl),
  username: text(),
  password: secret(),
  usernameField: optional(text('must not be empty')),
  passwordField: optional(text('must not be empty')),
  expiresInUnit: optional(oneOf<ExpiresInUnit>(['seconds', 'minutes'])),
  headers: optional(stringRecord),
  ...insecureField,
};

/**
 * A login endpoint that takes JSON credentials and answers with an OAuth-shaped token response,
 * as many vendor APIs do instead of RFC 6749's form-encoded grants.
 *
 * @example
 * const grant = jsonLoginGrant({
 *   tokenUrl: 'https://api.example.com/v1/auth/token',
 *   refreshUrl: 'https://api.example.com/v1/auth/refresh_token',
 *   usernameField: 'login',
 *   username, password,
 * });
 */
export function jsonLoginGrant(options: JsonLoginGrantOptions): Grant {
  const o = parseOptions(schema, options, 'jsonLoginGrant');
  const tokenUrl = new URL(o.tokenUrl);
  const refreshUrl = o.refreshUrl === undefined ? undefined : new URL(o.refreshUrl);
  const send = async (ctx: GrantContext, url: URL, body: unknown, singleUse: boolean): Promise<TokenSet> => {
    traceEndpoint(ctx, url);
    const res = await ctx.transport.send({
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...o.headers },
      body: JSON.stringify(body),
      singleUse,
    });
    return processTokenResponse(res, { where: endpointLabel(url), secrets: ctx.secrets, expiresInUnit: o.expiresInUnit });
  };
  const grant: Grant = {
    type: 'json_login',
    cacheKey: cacheKeyOf('json_login', o.tokenUrl, o.username),
    secrets: new SecretSet().add(o.password),
    canObtain: true,
    obtain(ctx) {
      return send(ctx, tokenUrl, { [o.usernameField ?? 'username']: o.username, [o.passwordField ?? 'password']: o.password }, false);
    },
  };
  if (refreshUrl) {
    grant.refresh = (ctx, current) => send(ctx, refreshUrl, { refresh_token: current.refreshToken }, true);
  }
  return grant;
}
