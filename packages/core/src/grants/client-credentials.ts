import { clientFields, confidentialClientSecret, resolveClientAuth, type ClientAuthentication } from '../client-auth.js';
import { Endpoints, endpointFields, standardRequests } from '../endpoints.js';
import { cacheKeyOf, formTokenRequest, secretsOf, type Grant } from '../grant.js';
import type { PrivateKeyInput } from '../client-auth-jwt.js';
import { insecureField, optional, parseOptions, scope, stringRecord } from '../validation.js';

/** The options every form of {@link ClientCredentialsGrantOptions} shares. */
export interface ClientCredentialsGrantCommonOptions {
  /** The token endpoint. Required unless `issuer` is set. */
  tokenUrl?: string | undefined;
  /** The issuer identifier: its discovery document supplies the endpoints not set here. */
  issuer?: string | undefined;
  /** The RFC 7009 revocation endpoint, for `client.revoke()`. Default: from discovery, if any. */
  revocationUrl?: string | undefined;
  clientId: string;
  scope?: string | string[] | undefined;
  /** More body parameters, e.g. `audience` or `resource`. */
  extraParams?: Record<string, string> | undefined;
  /** @default false */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

/**
 * Options of {@link clientCredentialsGrant}: a `clientSecret` (Basic by default), or a
 * `clientAuth` that authenticates without one. A public client (`'none'`) cannot use this grant.
 */
export type ClientCredentialsGrantOptions = ClientCredentialsGrantCommonOptions &
  (
    | {
        clientSecret: string;
        /** @default 'client_secret_basic' */
        clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | ClientAuthentication | undefined;
        privateKey?: undefined;
      }
    | {
        clientSecret?: undefined;
        clientAuth: 'private_key_jwt';
        /** The private key that signs the client assertions: PEM, JWK or node:crypto KeyObject. */
        privateKey: PrivateKeyInput;
      }
    | {
        clientSecret?: undefined;
        /** A value that authenticates without a secret: `privateKeyJwt(...)`, `tlsClientAuth(...)`. */
        clientAuth: ClientAuthentication;
        privateKey?: undefined;
      }
  );

const schema = {
  ...endpointFields,
  ...clientFields,
  clientSecret: confidentialClientSecret,
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
  const clientAuth = resolveClientAuth(options);
  const standard = standardRequests(new Endpoints(o), clientAuth);
  return {
    type: 'client_credentials',
    cacheKey: cacheKeyOf('client_credentials', o.tokenUrl ?? o.issuer, o.clientId, o.scope),
    secrets: secretsOf(clientAuth),
    canObtain: true,
    async obtain(ctx) {
      const params = new URLSearchParams({ grant_type: 'client_credentials', ...o.extraParams });
      if (o.scope) params.set('scope', o.scope);
      const tokenUrl = await standard.tokenUrl(ctx);
      return formTokenRequest(ctx, { tokenUrl, params, clientAuth, issuer: o.issuer });
    },
    // RFC 6749 says no refresh token SHOULD be issued here; use one if a server does.
    refresh: (ctx, current) => standard.refresh(ctx, current),
    revoke: (ctx, token, hint) => standard.revoke(ctx, token, hint),
  };
}
