/** Cookie reading, `Set-Cookie` writing and HMAC signing for the login flow. No dependency. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One cookie to set: adapters send `header` as a `Set-Cookie` header, as it is. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** The full, serialized `Set-Cookie` value. */
  readonly header: string;
}

/** The attributes every cookie of the flow gets. */
export interface CookieScope {
  /** `Secure` is set. */
  readonly secure: boolean;
  /** The request came over https (as the app sees it): names take the `__Host-` prefix. */
  readonly https: boolean;
}

/** A random, URL- and cookie-safe id of 32 bytes (256 bits). */
export function randomId(): string {
  return randomBytes(32).toString('base64url');
}

/** A 43-character base64url string: the shape of {@link randomId} and of an HMAC-SHA256. */
export const ID_PATTERN: RegExp = /^[\w-]{43}$/;

/** The SHA-256 of `value`, base64url: store keys never hold a session id or a `state` in clear. */
export function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** A cookie name with the `__Host-` prefix on https: it then cannot be set by a sibling domain or over http. */
export function cookieName(base: string, scope: CookieScope): string {
  return scope.https ? `__Host-${base}` : base;
}

/** `Set-Cookie` for `name=value`, HttpOnly, SameSite=Lax, Path=/, no Domain; `maxAgeSeconds` 0 deletes it. */
export function setCookie(name: string, value: string, maxAgeSeconds: number, scope: CookieScope): SetCookie {
  const secure = scope.secure ? '; Secure' : '';
  const age = maxAgeSeconds > 0 ? Math.ceil(maxAgeSeconds) : 0;
  const expires = age === 0 ? '; Expires=Thu, 01 Jan 1970 00:00:00 GMT' : '';
  return { name, value, header: `${name}=${value}; Path=/; Max-Age=${age}${expires}; HttpOnly${secure}; SameSite=Lax` };
}

/** Joins a `Cookie` header that arrived as several (HTTP/2 sends one per cookie). */
export function cookieHeader(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value.join('; ');
}

/** The value of the first cookie called `name` in a `Cookie` header, without building a map. */
export function readCookie(header: string, name: string): string | undefined {
  let from = 0;
  while (from < header.length) {
    const end = header.indexOf(';', from);
    const stop = end === -1 ? header.length : end;
    const eq = header.indexOf('=', from);
    if (eq !== -1 && eq < stop && header.slice(from, eq).trim() === name) return header.slice(eq + 1, stop).trim();
    from = stop + 1;
  }
  return undefined;
}

/** Every `[name, value]` of a `Cookie` header whose name starts with `prefix`. */
export function readCookiesStartingWith(header: string, prefix: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name.startsWith(prefix)) out.push([name, part.slice(eq + 1).trim()]);
  }
  return out;
}

/** HMAC-SHA256 signatures with key rotation: sign with the first secret, accept any. */
export class Signer {
  readonly #secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets;
  }

  sign(payload: string): string {
    return `${payload}.${mac(this.#secrets[0]!, payload)}`;
  }

  /** The payload of a value signed by any of the secrets, or undefined. */
  verify(signed: string): string | undefined {
    const dot = signed.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const signature = signed.slice(dot + 1);
    if (!ID_PATTERN.test(signature)) return undefined;
    const payload = signed.slice(0, dot);
    // Raw digests, compared in constant time: 43 base64url characters always decode to the 32
    // bytes of a SHA-256, so the lengths match and nothing is re-encoded per request.
    const given = Buffer.from(signature, 'base64url');
    for (const secret of this.#secrets) {
      if (timingSafeEqual(given, createHmac('sha256', secret).update(payload).digest())) return payload;
    }
    return undefined;
  }

  // Secrets live in a private field: nothing prints them.
  toJSON(): string {
    return 'Signer';
  }
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}
