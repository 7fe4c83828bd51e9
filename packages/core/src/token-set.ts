import { inspect } from 'node:util';
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
}

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
    this.#raw = Object.freeze({ ...init.raw });
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
    return this.#raw;
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

  static fromStored(stored: StoredTokenSet): TokenSet {
    return new TokenSet(stored);
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

// Defined outside the class body: a computed method name cannot be declared under isolatedDeclarations.
Object.defineProperty(TokenSet.prototype, inspect.custom, {
  value(this: TokenSet): string {
    return `TokenSet ${inspect(this.toJSON())}`;
  },
});
