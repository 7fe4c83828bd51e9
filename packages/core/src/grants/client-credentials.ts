import { clientFields, resolveClientAuth, type ClientAuthentication, type ClientAuthMethod } from '../client-auth.js';
import { cacheKeyOf, formTokenRequest, refreshTokenRequest, secretsOf, type Grant } from '../grant.js';
import { endpointUrl, insecureField, optional, parseOptions, scope, secret, stringRecord } from '../validation.js';

export interface ClientCredentialsGrantOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** @default 'client_secret_basic' */
  clientAuth?: ClientAuthMethod | ClientAuthentication | undefined;
  scope?: string | string[] | undefined;
  /** More body parameters, e.g. `audience` or `resource`. */
  extraParams?: Record<string, string> | undefined;
  /** @default false */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

const schema = {
  tokenUrl: endpointUrl,
  ...clientFields,
  clientSecret: secret(),
  scope: optional(scope),
  extraParams: optional(stringRecord),
  ...insecureField,
};

/**
 * The client credentials grant: the client acts on its own behalf.
 *
 * @example
 * const grant = clientCredentialsGrant({ tokenUrl, clientId: 'svc', clientSecret: process.env.SECRET!, scope: ['read'] });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export function clientCredentialsGrant(options: ClientCredentialsGrantOptions): Grant {
  const o = parseOptions(schema, options, 'clientCredentialsGrant');
  const tokenUrl = new URL(o.tokenUrl);
  const clientAuth = resolveClientAuth(options);
  return {
    type: 'client_credentials',
    cacheKey: cacheKeyOf('client_credentials', o.tokenUrl, o.clientId, o.scope),
    secrets: secretsOf(clientAuth),
    canObtain: true,
    obtain(ctx) {
      const params = new URLSearchParams({ grant_type: 'client_credentials', ...o.extraParams });
      if (o.scope) params.set('scope', o.scope);
      return formTokenRequest(ctx, { tokenUrl, params, clientAuth });
    },
    // RFC 6749 says no refresh token SHOULD be issued here; use one if a server does.
    refresh(ctx, current) {
      return refreshTokenRequest(ctx, current, { tokenUrl, clientAuth });
    },
  };
}
