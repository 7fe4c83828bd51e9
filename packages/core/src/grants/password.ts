import { clientFields, resolveClientAuth, type ClientAuthentication, type ClientAuthMethod } from '../client-auth.js';
import type { PrivateKeyInput } from '../client-auth-jwt.js';
import { Endpoints, endpointFields, standardRequests } from '../endpoints.js';
import { cacheKeyOf, formTokenRequest, secretsOf, type Grant } from '../grant.js';
import { insecureField, optional, paramSourceRecord, parseOptions, scope, secret, text } from '../validation.js';

/** A parameter value, or a function that produces a fresh one for each request (a one-time code). */
export type ParamSource = string | (() => string | Promise<string>);

export interface PasswordGrantOptions {
  /** The token endpoint. Required unless `issuer` is set. */
  tokenUrl?: string | undefined;
  /** The issuer identifier: its discovery document supplies the endpoints not set here. */
  issuer?: string | undefined;
  /** The RFC 7009 revocation endpoint, for `client.revoke()`. Default: from discovery, if any. */
  revocationUrl?: string | undefined;
  clientId: string;
  /** Omit for a public client. */
  clientSecret?: string | undefined;
  /** @default 'client_secret_basic' with a secret, 'none' without */
  clientAuth?: ClientAuthMethod | ClientAuthentication | undefined;
  /** The private key of `clientAuth: 'private_key_jwt'`: PEM, JWK or node:crypto KeyObject. */
  privateKey?: PrivateKeyInput | undefined;
  username: string;
  password: string;
  /** Space-separated string or array. */
  scope?: string | string[] | undefined;
  /** More body parameters; a function is called for every token request (a fresh two-factor code). */
  extraParams?: Record<string, ParamSource> | undefined;
  /** @default false */
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

const schema = {
  ...endpointFields,
  ...clientFields,
  username: text(),
  password: secret(),
  scope: optional(scope),
  extraParams: optional(paramSourceRecord),
  ...insecureField,
};

/** Resolves parameter sources, calling the functions among them. */
export async function resolveParams(params: Record<string, ParamSource> | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, source] of Object.entries(params ?? {})) {
    out[key] = typeof source === 'function' ? await source() : source;
  }
  return out;
}

/**
 * The resource owner password credentials grant.
 *
 * @example
 * const grant = passwordGrant({ tokenUrl: 'https://auth.example.com/token', clientId: 'app', username, password });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.3
 */
export function passwordGrant(options: PasswordGrantOptions): Grant {
  const o = parseOptions(schema, options, 'passwordGrant');
  const clientAuth = resolveClientAuth(options);
  const standard = standardRequests(new Endpoints(o), clientAuth);
  const extraParams = options.extraParams;
  return {
    type: 'password',
    cacheKey: cacheKeyOf('password', o.tokenUrl ?? o.issuer, o.clientId, o.username, o.scope),
    secrets: secretsOf(clientAuth, o.password),
    canObtain: true,
    async obtain(ctx) {
      const params = new URLSearchParams({ grant_type: 'password', username: o.username, password: o.password });
      if (o.scope) params.set('scope', o.scope);
      for (const [k, v] of Object.entries(await resolveParams(extraParams))) params.set(k, v);
      const tokenUrl = await standard.tokenUrl(ctx);
      return formTokenRequest(ctx, { tokenUrl, params, clientAuth, issuer: o.issuer });
    },
    refresh: (ctx, current) => standard.refresh(ctx, current),
    revoke: (ctx, token, hint) => standard.revoke(ctx, token, hint),
  };
}
