import { ErrorCode, ProdoAuthError } from './errors.js';
import { REDACTED } from './redact.js';

export interface TokenSetInit {
  accessToken: string;
  /** @default 'Bearer' */
  tokenType?: string | undefined;
  /** When the access token expires (epoch ms); absent when unknown. */
  expiresAt?: number | undefined;
  refreshToken?: string | undefined;
  /** When the refresh token expires (epoch ms); absent when unknown or never. */
  refreshExpiresAt?: number | undefined;
  scope?: string | undefined;
  /** When the request that produced these tokens was sent (epoch ms). */
  issuedAt?: number | undefined;
  /** The token response as the server sent it. */
  raw?: Readonly<Record<string, unknown>> | undefined;
}

/** The JSON-safe form of a TokenSet that stores persist. Holds secrets: only stores see it. */
export interface StoredTokenSet {
  accessToken: string;
  tokenType: string;
  expiresAt?: number | undefined;
  refreshToken?: string | undefined;
  refreshExpiresAt?: number | undefined;
  scope?: string | undefined;
  issuedAt: number;
  raw?: Record<string, unknown> | undefined;
  /**
   * Set while one client is presenting this entry's refresh token: the entry then holds no refresh
   * token, and other clients wait for the result instead of logging in. Written by the token client.
   */
  refreshClaim?: { id: string; expiresAt: number } | undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
// A header-safe token: what `Authorization: Bearer <token>` can carry (visible ASCII and spaces).
const isTokenString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && /^[\x20-\x7e]+$/.test(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * What is wrong with a value a store returned, as field names and expectations only (never a
 * value, since the value holds tokens). Empty when it is a valid StoredTokenSet. `null` counts as
 * absent for the optional fields, as stores that serialise `undefined` to `null` write them.
 */
export function storedTokenSetIssues(value: unknown): string[] {
  if (!isRecord(value)) return [`the value must be an object, not ${value === null ? 'null' : typeof value}`];
  const issues: string[] = [];
  const optional = (field: string, ok: (v: unknown) => boolean, expected: string): void => {
    const v = value[field];
    if (v !== undefined && v !== null && !ok(v)) issues.push(`${field} must be ${expected}`);
  };
  if (!isTokenString(value.accessToken)) issues.push('accessToken must be a non-empty string of visible ASCII');
  if (typeof value.tokenType !== 'string' || value.tokenType === '') issues.push('tokenType must be a non-empty string');
  if (!isTime(value.issuedAt)) issues.push('issuedAt must be a finite number (epoch ms)');
  optional('expiresAt', isTime, 'a finite number (epoch ms)');
  optional('refreshToken', isTokenString, 'a non-empty string of visible ASCII');
  optional('refreshExpiresAt', isTime, 'a finite number (epoch ms)');
  optional('scope', (v) => typeof v === 'string', 'a string');
  optional('raw', isRecord, 'an object');
  optional('refreshClaim', (v) => isRecord(v) && typeof v.id === 'string' && isTime(v.expiresAt), 'an object { id, expiresAt }');
  return issues;
}

/** `null` (a store's `undefined`) becomes undefined. */
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/**
 * The tokens from one token response. Token values are readable through getters but never appear
 * in `util.inspect`, `console.log` or `JSON.stringify` output.
 */
export class TokenSet {
  readonly #accessToken: string;
  readonly #refreshToken: string | undefined;
  readonly #raw: Readonly<Record<string, unknown>>;
  /** The `token_type` as the server sent it (`Bearer`, `bearer`, ...). */
  readonly tokenType: string;
  /** When the access token expires (epoch ms), or undefined: valid until the API rejects it. */
  readonly expiresAt: number | undefined;
  /** When the refresh token expires (epoch ms), or undefined when unknown or never. */
  readonly refreshExpiresAt: number | undefined;
  readonly scope: string | undefined;
  /** When the request that produced these tokens was sent (epoch ms). */
  readonly issuedAt: number;

  constructor(init: TokenSetInit) {
    this.#accessToken = init.accessToken;
    this.#refreshToken = init.refreshToken;
    // A copy, frozen when first read: a session's token set that nobody reads costs no frozen map.
    this.#raw = { ...init.raw };
    this.tokenType = init.tokenType ?? 'Bearer';
    this.expiresAt = init.expiresAt;
    this.refreshExpiresAt = init.refreshExpiresAt;
    this.scope = init.scope;
    this.issuedAt = init.issuedAt ?? Date.now();
  }

  get accessToken(): string {
    return this.#accessToken;
  }

  get refreshToken(): string | undefined {
    return this.#refreshToken;
  }

  /** The token response as received, vendor-specific fields included. Contains the tokens. */
  get raw(): Readonly<Record<string, unknown>> {
    return Object.isFrozen(this.#raw) ? this.#raw : Object.freeze(this.#raw);
  }

  /** True once the access token's known expiry has passed. */
  isExpired(now: number = Date.now()): boolean {
    return this.expiresAt !== undefined && now >= this.expiresAt;
  }

  /** True while the refresh token may still be used. */
  canRefresh(now: number = Date.now()): boolean {
    return this.#refreshToken !== undefined && (this.refreshExpiresAt === undefined || now < this.refreshExpiresAt);
  }

  /** A copy with some fields replaced. */
  with(changes: Partial<TokenSetInit>): TokenSet {
    return new TokenSet({ ...this.toStored(), raw: this.#raw, ...changes });
  }

  /** The form stores persist. Contains the tokens. */
  toStored(): StoredTokenSet {
    return {
      accessToken: this.#accessToken,
      tokenType: this.tokenType,
      expiresAt: this.expiresAt,
      refreshToken: this.#refreshToken,
      refreshExpiresAt: this.refreshExpiresAt,
      scope: this.scope,
      issuedAt: this.issuedAt,
      raw: { ...this.#raw },
    };
  }

  /**
   * Rebuilds a TokenSet from what a store returned, checking its shape first: a store shared with
   * another version, or holding a stray value, must not make a client send `Bearer undefined`.
   *
   * @throws ProdoAuthError (`ErrorCode.INVALID_STORED_VALUE`) naming the bad fields, never a value.
   */
  static fromStored(stored: unknown): TokenSet {
    return checkedTokenSet(
      stored,
      'The token store returned a value that is not a stored token set',
      'Check that every client sharing the store writes this format (a store shared with another version or application, or a stray value under the key)',
      ErrorCode.INVALID_STORED_VALUE,
    );
  }

  /**
   * This package's TokenSet for a token set made by any copy of it (a duplicate install, the CJS
   * and ESM builds side by side): private fields only work within one copy, so a foreign one is
   * read through its public getters only, and checked like a stored one.
   *
   * @throws ProdoAuthError (`ErrorCode.INVALID_RESPONSE`) naming the bad fields, never a value.
   */
  static from(tokenSet: TokenSet): TokenSet {
    // One of ours is checked too: its constructor takes whatever a custom grant gives it.
    if (tokenSet instanceof TokenSet && storedTokenSetIssues(tokenSet.toStored()).length === 0) return tokenSet;
    const t = tokenSet as Partial<TokenSet> | null | undefined;
    return checkedTokenSet(
      t === null || typeof t !== 'object'
        ? t
        : {
            accessToken: t.accessToken,
            // A plain object from a JavaScript grant gets the constructor's defaults.
            tokenType: t.tokenType ?? 'Bearer',
            expiresAt: t.expiresAt,
            refreshToken: t.refreshToken,
            refreshExpiresAt: t.refreshExpiresAt,
            scope: t.scope,
            issuedAt: t.issuedAt ?? Date.now(),
            raw: t.raw === undefined ? undefined : { ...t.raw },
          },
      'Not a valid token set (from a grant or setTokenSet)',
      'A custom grant must resolve with a TokenSet whose accessToken is a non-empty string',
      ErrorCode.INVALID_RESPONSE,
    );
  }

  /** A description with the token values masked. */
  toJSON(): Record<string, unknown> {
    return {
      accessToken: REDACTED,
      tokenType: this.tokenType,
      expiresAt: this.expiresAt,
      refreshToken: this.#refreshToken === undefined ? undefined : REDACTED,
      refreshExpiresAt: this.refreshExpiresAt,
      scope: this.scope,
      issuedAt: this.issuedAt,
    };
  }
}

/** A TokenSet from a value that must have the stored shape, or a ProdoAuthError naming the bad fields. */
function checkedTokenSet(value: unknown, what: string, fix: string, code: ErrorCode): TokenSet {
  const issues = storedTokenSetIssues(value);
  if (issues.length > 0) {
    throw new ProdoAuthError(`${what}: ${issues.join('; ')}. ${fix}`, { code });
  }
  const s = value as StoredTokenSet;
  return new TokenSet({
    accessToken: s.accessToken,
    tokenType: s.tokenType,
    expiresAt: opt(s.expiresAt),
    refreshToken: opt(s.refreshToken),
    refreshExpiresAt: opt(s.refreshExpiresAt),
    scope: opt(s.scope),
    issuedAt: s.issuedAt,
    raw: opt(s.raw),
  });
}

// Defined outside the class body: a computed method name cannot be declared under isolatedDeclarations.
// Node hands the custom inspector its own inspect function, so node:util need not be imported.
Object.defineProperty(TokenSet.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: TokenSet, _depth: number, options: object, inspect: (value: unknown, options?: object) => string): string {
    return `TokenSet ${inspect(this.toJSON(), options)}`;
  },
});
