/**
 * One redaction function for every error message, event and inspect output.
 *
 * Secrets are matched literally and in the encodings they travel in (URL/form encoding, JSON
 * string escaping, the Basic credentials Base64), so a server that echoes a request back cannot
 * leak them. JWT-shaped strings and `Bearer` credentials are masked even when we never knew them,
 * because a vendor may echo a token we did not send (the Petrosoft refresh 500 does).
 */

/** The text that replaces a secret. */
export const REDACTED = '[REDACTED]';

// Three base64url segments starting with a JSON header, or the first two of them (a truncated JWT).
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
const BEARER_LIKE = /\b(Bearer|Basic|DPoP)\s+[A-Za-z0-9._~+/=-]{4,}/gi;
// Values of well-known secret fields in JSON or form bodies that a server might echo.
const FIELD_LIKE =
  /((?<![\w-])"?(?:access_token|refresh_token|id_token|client_secret|password|code_verifier|code)"?\s*[:=]\s*"?)([^"&\s,}]+)/gi;

/** Secrets shorter than this are not redacted literally: they would mask ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** Every form a secret may take on the wire or in a server's echo of it. */
function variants(secret: string): string[] {
  const out = new Set<string>([secret]);
  out.add(encodeURIComponent(secret));
  out.add(new URLSearchParams({ s: secret }).toString().slice(2));
  out.add(JSON.stringify(secret).slice(1, -1));
  // A raw secret inside a body parsed as a form comes out decoded: '+' as a space, '%xx' decoded.
  out.add(new URLSearchParams(`s=${secret.replace(/&/g, '%26').replace(/=/g, '%3D')}`).get('s') ?? secret);
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/**
 * A set of known secrets. Grants register the secrets they hold; the token client registers the
 * tokens it receives. The set holds strings only as long as the owner does.
 */
export class SecretSet {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | undefined;

  add(...secrets: Array<string | undefined>): this {
    for (const s of secrets) {
      if (s !== undefined && s.length >= MIN_SECRET_LENGTH) {
        for (const v of variants(s)) this.#secrets.add(v);
      }
    }
    this.#pattern = undefined;
    return this;
  }

  /** Adds every secret of another set. */
  merge(other: SecretSet | undefined): this {
    if (other) for (const s of other.#secrets) this.#secrets.add(s);
    this.#pattern = undefined;
    return this;
  }

  get size(): number {
    return this.#secrets.size;
  }

  redact(text: string): string {
    if (this.#secrets.size > 0) {
      this.#pattern ??= new RegExp(
        [...this.#secrets]
          .sort((a, b) => b.length - a.length)
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('|'),
        'g',
      );
      text = text.replace(this.#pattern, REDACTED);
    }
    return redactPatterns(text);
  }
}

/** Masks credentials that look like tokens, whether or not we know them. */
export function redactPatterns(text: string): string {
  return text
    .replace(JWT_LIKE, REDACTED)
    .replace(BEARER_LIKE, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(FIELD_LIKE, (_m, prefix: string) => `${prefix}${REDACTED}`);
}

/**
 * Redacts known secrets and token-shaped strings from a text.
 *
 * @param text - any text that may reach a log: an error message, a server's response body
 * @param secrets - the secrets to remove, matched literally and in their wire encodings
 */
export function redact(text: string, secrets?: Iterable<string> | SecretSet): string {
  if (secrets instanceof SecretSet) return secrets.redact(text);
  const set = new SecretSet();
  if (secrets) set.add(...secrets);
  return set.redact(text);
}
