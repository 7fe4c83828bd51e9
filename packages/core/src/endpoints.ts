/**
 * The endpoints of an authorization server, as configured or discovered. Construction stays
 * synchronous: a grant built with only an `issuer` resolves its endpoints on first use, through
 * the token client's own transport (its timeout, size cap and retries), once, and a failed
 * discovery is tried again by the next caller instead of being remembered.
 *
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
import { ConfigError, ErrorCode, TokenEndpointError } from './errors.js';
import type { ClientAuthentication } from './client-auth.js';
import { endpointLabel, refreshTokenRequest, revokeTokenRequest, type GrantContext, type RevocableToken } from './grant.js';
import type { TokenSet } from './token-set.js';
import type { Transport } from './transport.js';
import { endpointUrl, optional, type Check } from './validation.js';

/** The endpoints a grant may use. */
export interface EndpointsOptions {
  /**
   * The authorization server's issuer identifier: its discovery document fills every endpoint
   * not set here (a Keycloak realm URL, a Spring Authorization Server's issuer).
   */
  issuer?: string | undefined;
  tokenUrl?: string | undefined;
  /** The RFC 7009 revocation endpoint; `client.revoke()` uses it. */
  revocationUrl?: string | undefined;
  authorizeUrl?: string | undefined;
  dangerouslyAllowInsecureHttp?: boolean | undefined;
}

/** The fields of an authorization server's metadata this package uses. */
export interface ServerMetadata {
  readonly issuer: string;
  readonly token_endpoint?: string | undefined;
  readonly authorization_endpoint?: string | undefined;
  readonly revocation_endpoint?: string | undefined;
  /** RFC 8705 section 5: the endpoints to use with mutual-TLS client authentication. */
  readonly mtls_endpoint_aliases?: Readonly<Record<string, string>> | undefined;
  readonly [field: string]: unknown;
}

/** `tokenUrl`, required unless `issuer` is set. */
const tokenUrlCheck: Check<string | undefined> = (value, report, options) => {
  if (value === undefined && options.issuer === undefined) {
    report('is required: set tokenUrl, or issuer to discover it');
    return undefined;
  }
  return optional(endpointUrl)(value, report, options);
};

/** The schema fields of the endpoint options, shared by the grants that speak to a standard server. */
export const endpointFields: {
  issuer: Check<string | undefined>;
  tokenUrl: Check<string | undefined>;
  revocationUrl: Check<string | undefined>;
} = {
  issuer: optional(endpointUrl),
  tokenUrl: tokenUrlCheck,
  revocationUrl: optional(endpointUrl),
};

/** The two well-known locations of an issuer's metadata, in the order they are tried. */
export function discoveryUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  // OpenID Connect Discovery appends; RFC 8414 section 3.1 inserts between host and path.
  return [
    new URL(`${url.origin}${path}/.well-known/openid-configuration`),
    new URL(`${url.origin}/.well-known/oauth-authorization-server${path}`),
  ];
}

type EndpointName = 'token_endpoint' | 'authorization_endpoint' | 'revocation_endpoint';

const OPTION_OF: Record<EndpointName, string> = {
  token_endpoint: 'tokenUrl',
  authorization_endpoint: 'authorizeUrl',
  revocation_endpoint: 'revocationUrl',
};

/** A grant's endpoints: the configured ones at once, the others from the issuer's discovery document. */
export class Endpoints {
  readonly issuer: string | undefined;
  readonly #configured: Partial<Record<EndpointName, URL>>;
  readonly #insecure: boolean;
  #metadata: ServerMetadata | undefined;
  #pending: Promise<ServerMetadata> | undefined;

  /** @param options - already validated (see {@link endpointFields}) */
  constructor(options: EndpointsOptions) {
    this.issuer = options.issuer;
    this.#insecure = options.dangerouslyAllowInsecureHttp === true;
    const url = (v: string | undefined): URL | undefined => (v === undefined ? undefined : new URL(v));
    this.#configured = {
      token_endpoint: url(options.tokenUrl),
      authorization_endpoint: url(options.authorizeUrl),
      revocation_endpoint: url(options.revocationUrl),
    };
  }

  /** The endpoint, when it is known without I/O (configured, or already discovered). */
  known(name: EndpointName): URL | undefined {
    const configured = this.#configured[name];
    if (configured !== undefined || this.#metadata === undefined) return configured;
    const value = this.#metadata[name];
    return typeof value === 'string' ? new URL(value) : undefined;
  }

  /** Whether discovery could still supply endpoints that are not configured. */
  get discovers(): boolean {
    return this.issuer !== undefined;
  }

  /**
   * The endpoint: configured, or from discovery. Undefined when neither has it.
   *
   * @param mtls - prefer the server's `mtls_endpoint_aliases` (RFC 8705 section 5)
   */
  async get(transport: Transport, name: EndpointName, mtls = false): Promise<URL | undefined> {
    const configured = this.#configured[name];
    if (configured !== undefined || this.issuer === undefined) return configured;
    const metadata = await this.metadata(transport);
    const alias = mtls ? metadata.mtls_endpoint_aliases?.[name] : undefined;
    const value = alias ?? metadata[name];
    return typeof value === 'string' ? new URL(value) : undefined;
  }

  /** Like {@link get}, but a missing endpoint is a ConfigError naming the option to set. */
  async require(transport: Transport, name: EndpointName, mtls = false): Promise<URL> {
    const url = await this.get(transport, name, mtls);
    if (url !== undefined) return url;
    throw new ConfigError(
      `The discovery document of ${this.issuer ?? 'the issuer'} has no ${name}: set ${OPTION_OF[name]}`,
      [{ path: OPTION_OF[name], message: `is required: the issuer's metadata has no ${name}` }],
    );
  }

  /** The issuer's metadata, fetched once (single-flight); a failure is not remembered. */
  metadata(transport: Transport): Promise<ServerMetadata> {
    if (this.#metadata !== undefined) return Promise.resolve(this.#metadata);
    this.#pending ??= this.#discover(transport).then(
      (metadata) => {
        this.#metadata = metadata;
        this.#pending = undefined;
        return metadata;
      },
      (error: unknown) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }

  async #discover(transport: Transport): Promise<ServerMetadata> {
    const issuer = this.issuer!;
    const [openid, oauth] = discoveryUrls(issuer);
    let res = await transport.send({ url: openid!, method: 'GET', headers: { accept: 'application/json' } });
    let from = openid!;
    // Only a server without the OpenID document gets the RFC 8414 one; a network error or a 5xx
    // is the answer (after the transport's retries).
    if (res.status === 404 || res.status === 410) {
      res = await transport.send({ url: oauth!, method: 'GET', headers: { accept: 'application/json' } });
      from = oauth!;
    }
    const where = endpointLabel(from);
    if (res.status !== 200 || res.body.kind !== 'json' || typeof res.body.value !== 'object' || res.body.value === null) {
      throw new TokenEndpointError(
        `Discovery of ${issuer} failed: ${where} answered HTTP ${res.status}${res.status === 200 ? ' with no JSON object' : ''}; check the issuer, or set tokenUrl`,
        { code: res.status === 200 ? ErrorCode.INVALID_RESPONSE : ErrorCode.HTTP_STATUS, status: res.status, requestSent: true },
      );
    }
    const metadata = res.body.value as Record<string, unknown>;
    // RFC 8414 section 3.3, OIDC Discovery section 4.3: the document must name exactly the issuer
    // it was fetched for, or a server could pass another's endpoints off as this issuer's.
    if (metadata.issuer !== issuer) {
      throw new ConfigError(`The discovery document at ${where} is for another issuer`, [
        {
          path: 'issuer',
          message: `does not match the issuer in the discovery document${typeof metadata.issuer === 'string' ? ` (${JSON.stringify(metadata.issuer)})` : ''}: set issuer to exactly the value the server announces`,
        },
      ]);
    }
    const issues: Array<{ path: string; message: string }> = [];
    for (const name of ['token_endpoint', 'authorization_endpoint', 'revocation_endpoint'] as const) {
      const value = metadata[name];
      if (value === undefined) continue;
      endpointUrl(value, (message) => issues.push({ path: name, message }), { dangerouslyAllowInsecureHttp: this.#insecure });
    }
    const aliases = metadata.mtls_endpoint_aliases;
    if (aliases !== undefined && (typeof aliases !== 'object' || aliases === null)) {
      issues.push({ path: 'mtls_endpoint_aliases', message: 'must be an object' });
    } else if (aliases !== undefined) {
      for (const [name, value] of Object.entries(aliases)) {
        endpointUrl(value, (message) => issues.push({ path: `mtls_endpoint_aliases.${name}`, message }), {
          dangerouslyAllowInsecureHttp: this.#insecure,
        });
      }
    }
    if (issues.length > 0) throw new ConfigError(`The discovery document at ${where} has invalid endpoints`, issues);
    return metadata as ServerMetadata;
  }
}


/** The requests every standard grant makes beside its own: refresh and revocation. */
export interface StandardRequests {
  readonly endpoints: Endpoints;
  /** The token endpoint, configured or discovered. */
  tokenUrl(ctx: GrantContext): Promise<URL>;
  refresh(ctx: GrantContext, current: TokenSet, extraParams?: Record<string, string>): Promise<TokenSet>;
  revoke(ctx: GrantContext, token: string, hint: RevocableToken): Promise<boolean>;
}

/** Refresh and revocation at a grant's endpoints, with its client authentication. */
export function standardRequests(endpoints: Endpoints, clientAuth: ClientAuthentication): StandardRequests {
  // RFC 8705 section 5: a client that authenticates with its certificate uses the mTLS aliases.
  const mtls = clientAuth.method.endsWith('tls_client_auth');
  const tokenUrl = (ctx: GrantContext): Promise<URL> => endpoints.require(ctx.transport, 'token_endpoint', mtls);
  return {
    endpoints,
    tokenUrl,
    async refresh(ctx, current, extraParams) {
      const url = await tokenUrl(ctx);
      return refreshTokenRequest(ctx, current, { tokenUrl: url, clientAuth, extraParams, issuer: endpoints.issuer });
    },
    async revoke(ctx, token, hint) {
      const revocationUrl = await endpoints.get(ctx.transport, 'revocation_endpoint', mtls);
      if (revocationUrl === undefined) return false;
      await revokeTokenRequest(ctx, { revocationUrl, clientAuth, token, hint, issuer: endpoints.issuer });
      return true;
    },
  };
}
