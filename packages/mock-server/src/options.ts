/** `startMockServer` options: their types, their defaults per vendor, and their validation. */
import { z } from 'zod';
import { faultSchema, type FaultOptions } from './faults.js';

/** The vendors whose auth servers the mock simulates. */
export type Vendor = 'prodoscore' | 'bio-prodict' | 'procurios' | 'petrosoft';
export const VENDORS: readonly Vendor[] = ['prodoscore', 'bio-prodict', 'procurios', 'petrosoft'];

export interface MockServerOptions<TVendor extends Vendor = Vendor> {
  /** Which vendor's auth server to simulate. */
  vendor: TVendor;
  /**
   * The port to listen on; 0 picks a free one.
   * @default 0
   */
  port?: number | undefined;
  /**
   * A loopback address to listen on (`127.0.0.1`, any `127.x.y.z`, `::1` or `localhost`). The
   * server hands out tokens for fixed test credentials, so it never listens beyond the machine.
   * @default '127.0.0.1'
   */
  host?: string | undefined;
  /**
   * Lifetime of access tokens. Procurios' code-grant tokens, which state no expiry, still die
   * after it.
   * @default 36000 (prodoscore), 43200 (bio-prodict), 3600 (procurios), 86400 (petrosoft)
   */
  accessTokenTtlSeconds?: number | undefined;
  /**
   * Lifetime of refresh tokens. For Petrosoft it is the session's lifetime, counted from the
   * login: refreshing does not extend it. Procurios issues no refresh tokens.
   * @default 604800 (prodoscore), 2592000 (bio-prodict), 86400 (petrosoft)
   */
  refreshTokenTtlSeconds?: number | undefined;
  /**
   * Accept a refresh token again after it was exchanged. By default each refresh token works
   * once (every refresh answer carries a new one), which catches a client that sends a stale one.
   * @default false
   */
  allowRefreshTokenReuse?: boolean | undefined;
  /** Faults injected from the start; change them later with `server.faults`. */
  faults?: FaultOptions | undefined;
  /**
   * Procurios: show a consent page with an Approve button instead of approving at once.
   * @default false
   */
  requireConsent?: boolean | undefined;
  /**
   * Procurios: the registered redirect URLs. Matching is exact, except that the port of a
   * loopback `http` URL may differ (RFC 8252 section 7.3).
   * @default ['http://localhost/auth/callback', 'http://127.0.0.1/auth/callback', 'example.com']
   */
  redirectUrls?: readonly string[] | undefined;
  /**
   * Procurios: lifetime of an authorization code.
   * @default 60
   */
  authorizationCodeTtlSeconds?: number | undefined;
  /**
   * Procurios: answer the code exchange with the doc's literal `{'access_token': '...'}`, which is
   * not valid JSON, instead of `{"access_token": "..."}`.
   * @default false
   */
  singleQuotedTokenResponse?: boolean | undefined;
  /**
   * Bio-Prodict: lifetime of a code from `nextTwoFactorCode()`.
   * @default 300
   */
  twoFactorCodeTtlSeconds?: number | undefined;
}

/** The options after validation, with every default filled in. */
export interface ResolvedOptions {
  readonly vendor: Vendor;
  readonly port: number;
  readonly host: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly allowRefreshTokenReuse: boolean;
  readonly faults: FaultOptions;
  readonly requireConsent: boolean;
  readonly redirectUrls: readonly string[];
  readonly authorizationCodeTtlSeconds: number;
  readonly singleQuotedTokenResponse: boolean;
  readonly twoFactorCodeTtlSeconds: number;
}

// Defaults from the docs: Prodoscore "valid for 10 hours (36000 seconds)" and "valid for 7 days";
// Bio-Prodict's "expires_in": 43199 (a 12-hour token, as Spring truncates the remaining time);
// Procurios' "expires_in": 3600; Petrosoft's "expires_in": 86400 and "refresh_expires_in": 86400.
// Spring's own default refresh lifetime is 30 days.
const TTL_DEFAULTS: Record<Vendor, { access: number; refresh: number }> = {
  prodoscore: { access: 36_000, refresh: 604_800 },
  'bio-prodict': { access: 43_200, refresh: 2_592_000 },
  procurios: { access: 3_600, refresh: 0 },
  petrosoft: { access: 86_400, refresh: 86_400 },
};

export const DEFAULT_REDIRECT_URLS: readonly string[] = [
  'http://localhost/auth/callback',
  'http://127.0.0.1/auth/callback',
  // The doc's own example: `redirect_url=example.com`, so its example authorize URL works as written.
  'example.com',
];

const TEN_YEARS = 10 * 365 * 24 * 3600;
const seconds = z.number().int('must be a whole number of seconds').min(1).max(TEN_YEARS).optional();

// Options that make sense for one vendor only; passing them to another is a mistake worth naming.
const VENDOR_ONLY: Record<string, readonly Vendor[]> = {
  refreshTokenTtlSeconds: ['prodoscore', 'bio-prodict', 'petrosoft'],
  allowRefreshTokenReuse: ['prodoscore', 'bio-prodict', 'petrosoft'],
  requireConsent: ['procurios'],
  redirectUrls: ['procurios'],
  authorizationCodeTtlSeconds: ['procurios'],
  singleQuotedTokenResponse: ['procurios'],
  twoFactorCodeTtlSeconds: ['bio-prodict'],
};

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

const schema = z
  .strictObject({
    vendor: z.enum(VENDORS as [Vendor, ...Vendor[]], { error: `must be one of ${VENDORS.join(', ')}` }),
    port: z.number().int().min(0).max(65_535).optional(),
    host: z
      .string()
      .refine(isLoopbackHost, 'must be a loopback address (127.0.0.1, ::1 or localhost)')
      .optional(),
    accessTokenTtlSeconds: seconds,
    refreshTokenTtlSeconds: seconds,
    allowRefreshTokenReuse: z.boolean().optional(),
    faults: faultSchema.optional(),
    requireConsent: z.boolean().optional(),
    redirectUrls: z.array(z.string().min(1)).min(1).optional(),
    authorizationCodeTtlSeconds: seconds,
    singleQuotedTokenResponse: z.boolean().optional(),
    twoFactorCodeTtlSeconds: seconds,
  })
  .superRefine((value, ctx) => {
    for (const [key, vendors] of Object.entries(VENDOR_ONLY)) {
      if ((value as Record<string, unknown>)[key] !== undefined && !vendors.includes(value.vendor)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `applies only to vendor ${vendors.join(' or ')}` });
      }
    }
  });

/** Validates the options and fills in the defaults; a bad option throws a TypeError that names it. */
export function resolveOptions(options: MockServerOptions): ResolvedOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'} ${i.message}`);
    throw new TypeError(`startMockServer: invalid options: ${issues.join('; ')}`);
  }
  const o = parsed.data;
  const ttl = TTL_DEFAULTS[o.vendor];
  return {
    vendor: o.vendor,
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    accessTokenTtlSeconds: o.accessTokenTtlSeconds ?? ttl.access,
    refreshTokenTtlSeconds: o.refreshTokenTtlSeconds ?? ttl.refresh,
    allowRefreshTokenReuse: o.allowRefreshTokenReuse ?? false,
    faults: o.faults ?? {},
    requireConsent: o.requireConsent ?? false,
    redirectUrls: o.redirectUrls ?? DEFAULT_REDIRECT_URLS,
    authorizationCodeTtlSeconds: o.authorizationCodeTtlSeconds ?? 60,
    singleQuotedTokenResponse: o.singleQuotedTokenResponse ?? false,
    twoFactorCodeTtlSeconds: o.twoFactorCodeTtlSeconds ?? 300,
  };
}
