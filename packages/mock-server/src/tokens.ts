/** Every token a mock server issued: what it is, whom it is for, and whether it still lives. */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export type TokenKind = 'access' | 'refresh';

export interface TokenRecord {
  readonly value: string;
  readonly kind: TokenKind;
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string;
  /** The login session the token belongs to (Keycloak's `session_state`). */
  readonly sessionId: string;
  readonly issuedAt: number;
  /** Epoch ms after which the server rejects it. */
  readonly expiresAt: number;
  /** Set for tokens minted from an authorization code, so a replayed code can revoke them. */
  readonly code?: string | undefined;
  revoked: boolean;
  /** A refresh token that was already exchanged. */
  used: boolean;
}

export type TokenInit = Omit<TokenRecord, 'revoked' | 'used' | 'issuedAt'> & { issuedAt?: number };

/** Why a presented token is not live, or that it is. */
export type TokenCheck =
  | { readonly status: 'live'; readonly record: TokenRecord }
  | { readonly status: 'expired' | 'revoked' | 'used'; readonly record: TokenRecord }
  | { readonly status: 'unknown' };

// Expired records are kept (a late refresh gets "Token is not active", not "Invalid refresh
// token") until there are this many; then the expired ones are swept.
const SWEEP_AT = 10_000;

export class TokenRegistry {
  readonly #records = new Map<string, TokenRecord>();

  add(init: TokenInit): TokenRecord {
    if (this.#records.size >= SWEEP_AT) this.#sweep();
    const record: TokenRecord = { issuedAt: Date.now(), ...init, revoked: false, used: false };
    this.#records.set(record.value, record);
    return record;
  }

  check(value: string, kind: TokenKind): TokenCheck {
    const record = this.#records.get(value);
    if (record === undefined || record.kind !== kind) return { status: 'unknown' };
    if (record.revoked) return { status: 'revoked', record };
    if (Date.now() >= record.expiresAt) return { status: 'expired', record };
    if (record.used) return { status: 'used', record };
    return { status: 'live', record };
  }

  /** Makes a token unusable. Returns false when the server never issued it. */
  revoke(value: string): boolean {
    const record = this.#records.get(value);
    if (record === undefined) return false;
    record.revoked = true;
    return true;
  }

  /** Revokes every token that matches, for example all of a session or of an authorization code. */
  revokeWhere(predicate: (record: TokenRecord) => boolean): number {
    let count = 0;
    for (const record of this.#records.values()) {
      if (!record.revoked && predicate(record)) {
        record.revoked = true;
        count++;
      }
    }
    return count;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [value, record] of this.#records) if (record.expiresAt <= now) this.#records.delete(value);
  }
}

/** The claims of an issued JWT: the registered ones (RFC 7519, section 4.1) and any vendor extras. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

/**
 * Signs JWTs with HS256 and a key that lives as long as the server (nothing outside can verify them).
 * HS256 is one HMAC over `header.payload` (RFC 7515, appendix A.1), so node:crypto does it without a
 * JOSE library: jose is ESM only, and its `require` breaks CommonJS loaders such as tsx and Jest.
 */
export class JwtSigner {
  readonly #key = randomBytes(32);
  readonly #header = base64urlJson({ alg: 'HS256', typ: 'JWT', kid: randomUUID() });

  sign(claims: JwtClaims): Promise<string> {
    const input = `${this.#header}.${base64urlJson(claims)}`;
    return Promise.resolve(`${input}.${createHmac('sha256', this.#key).update(input).digest('base64url')}`);
  }
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A random opaque token, hex like a PHP `bin2hex(random_bytes(20))`. */
export function opaqueToken(bytes = 20): string {
  return randomBytes(bytes).toString('hex');
}

/** Epoch seconds, as JWT `iat` and `exp` count them. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
