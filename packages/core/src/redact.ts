/**
 * One redaction function for every error message, event and inspect output.
 *
 * Secrets are matched literally and in the encodings they travel in or come back in: URL/form
 * encoding (either case of hex digits), JSON string escaping (also with `\/` and `\uXXXX`, as PHP
 * and Python write it), HTML entities, Base64 and base64url (the secret encoded alone, and its
 * stable middle inside a longer Base64 string such as Basic credentials), and with line breaks
 * inserted anywhere (line-wrapped output). So a server that echoes a request back cannot leak
 * them. JWT-shaped strings and `Bearer` credentials are masked even when we never knew them,
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
/** A Base64 fragment shorter than this is too likely to occur by chance to be masked. */
const MIN_BASE64_FRAGMENT = 8;

/**
 * The key of the non-enumerable method that lists a SecretSet's secrets. Registered with
 * `Symbol.for`, so that a SecretSet made by another copy of this package (a duplicate install,
 * the CJS and ESM builds side by side) can be merged and used for redaction.
 */
const SECRET_VALUES = Symbol.for('prodo-auth.secret-set.values');

/** Anything with the SecretSet shape, from this copy of the package or another. */
type SecretSetLike = { [SECRET_VALUES]?: () => Iterable<string> };

function secretValuesOf(value: unknown): Iterable<string> | undefined {
  const list = (value as SecretSetLike | null | undefined)?.[SECRET_VALUES];
  return typeof list === 'function' ? list.call(value) : undefined;
}

const jsonEscape = (s: string): string => JSON.stringify(s).slice(1, -1);
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Base64 forms of a secret: alone (padded or not, both alphabets), and its middle at each offset. */
function base64Variants(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (const alphabet of ['base64', 'base64url'] as const) {
    const alone = bytes.toString(alphabet);
    out.push(alone, alone.replace(/=+$/, ''));
    // Inside a longer Base64 string the secret starts at byte offset 0, 1 or 2 of a 3-byte group;
    // the groups it shares with its neighbours change with them, the ones in between do not.
    for (let offset = 0; offset < 3; offset++) {
      const padded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet).replace(/=+$/, '');
      const start = offset === 0 ? 0 : 4;
      const end = Math.floor((offset + bytes.length) / 3) * 4;
      const middle = padded.slice(start, end);
      if (middle.length >= MIN_BASE64_FRAGMENT) out.push(middle);
    }
  }
  return out;
}

/** Every form a secret may take on the wire or in a server's echo of it. */
function variants(secret: string): string[] {
  const out = new Set<string>([secret]);
  out.add(encodeURIComponent(secret));
  out.add(new URLSearchParams({ s: secret }).toString().slice(2));
  const json = jsonEscape(secret);
  out.add(json);
  // PHP's json_encode escapes '/', Python's json.dumps (and PHP) write non-ASCII as \uXXXX.
  out.add(json.replace(/\//g, '\\/'));
  const asciiJson = json.replace(/[^\x20-\x7e]/g, unicodeEscape);
  out.add(asciiJson);
  out.add(asciiJson.replace(/\//g, '\\/'));
  // Go's encoding/json writes <, > and & as \u003c, \u003e, \u0026.
  out.add(json.replace(/[<>&]/g, unicodeEscape));
  // A raw secret inside a body parsed as a form comes out decoded: '+' as a space, '%xx' decoded.
  out.add(new URLSearchParams(`s=${secret.replace(/&/g, '%26').replace(/=/g, '%3D')}`).get('s') ?? secret);
  // HTML entities, with either spelling of the apostrophe.
  const html = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  out.add(html.replace(/'/g, '&#39;'));
  out.add(html.replace(/'/g, '&#x27;'));
  for (const b64 of base64Variants(secret)) out.add(b64);
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

// A line break a log pipeline or a wrapping encoder may have inserted, raw or JSON-escaped.
const LINE_BREAK = /\r\n|\n|\r/g;
// Tried apart from raw breaks: a secret may itself hold a backslash followed by `r` or `n`.
const ESCAPED_LINE_BREAK = /\\r\\n|\\n|\\r/g;

/** The regular expression source that matches one variant: hex digits of `%XX` and `\uXXXX` escapes in either case. */
function patternOf(variant: string): string {
  const units: string[] = [];
  for (let i = 0; i < variant.length; ) {
    const escape = /^(?:%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})/.exec(variant.slice(i, i + 6))?.[0];
    if (escape !== undefined) {
      const head = escape.startsWith('%') ? '%' : '\\\\u';
      const hex = escape.slice(escape.startsWith('%') ? 1 : 2);
      units.push(head + [...hex].map((h) => (/[a-f]/i.test(h) ? `[${h.toLowerCase()}${h.toUpperCase()}]` : h)).join(''));
      i += escape.length;
    } else {
      units.push(variant[i]!.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'));
      i += 1;
    }
  }
  return units.join('');
}

/**
 * Redacts the matches of `pattern` that a line break split: the text is matched without its
 * line breaks, and each match masks the original range it came from, breaks included. Two
 * linear passes, where a pattern that allowed a break between any two characters would be
 * many times larger and slower.
 */
function redactAcrossBreaks(text: string, pattern: RegExp, breaks: RegExp): string {
  let stripped = '';
  /** The index in `text` of each character of `stripped`. */
  const origin: number[] = [];
  let last = 0;
  const keep = (end: number): void => {
    stripped += text.slice(last, end);
    for (let i = last; i < end; i++) origin.push(i);
  };
  for (const m of text.matchAll(breaks)) {
    keep(m.index);
    last = m.index + m[0].length;
  }
  keep(text.length);
  let out = '';
  let from = 0;
  for (const m of stripped.matchAll(pattern)) {
    if (m[0].length === 0) continue;
    const start = origin[m.index]!;
    const end = origin[m.index + m[0].length - 1]! + 1;
    out += text.slice(from, start) + REDACTED;
    from = end;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * A set of known secrets. Grants register the secrets they hold; the token client registers the
 * tokens it receives. The set holds strings only as long as the owner does, and never shows them:
 * `util.inspect` and `JSON.stringify` print its size only.
 */
export class SecretSet {
  /** The secrets as given, for merging into another set (which derives its own variants). */
  readonly #originals = new Set<string>();
  /**
   * Every variant of every secret, as matched; derived on first use. Most sets never redact
   * anything (a token client makes one per token and per session), and the encodings of a secret
   * cost more than everything else a new set does.
   */
  #secrets: Set<string> | undefined;
  #pattern: RegExp | undefined;

  static {
    // Non-enumerable and symbol-keyed: no inspect, JSON or spread shows it, and another copy of
    // the package finds it by the registered symbol where a private-field read would throw.
    Object.defineProperty(SecretSet.prototype, SECRET_VALUES, {
      value: function secretValues(this: SecretSet): Iterable<string> {
        return [...this.#originals];
      },
    });
    Object.defineProperty(SecretSet.prototype, Symbol.for('nodejs.util.inspect.custom'), {
      value: function inspect(this: SecretSet): string {
        return `SecretSet { size: ${this.size} }`;
      },
    });
  }

  add(...secrets: Array<string | undefined>): this {
    for (const s of secrets) {
      if (typeof s === 'string' && s.length >= MIN_SECRET_LENGTH && !this.#originals.has(s)) {
        this.#originals.add(s);
        this.#secrets = undefined;
        this.#pattern = undefined;
      }
    }
    return this;
  }

  /** Adds every secret of another set, also one made by another copy of this package. */
  merge(other: SecretSet | undefined): this {
    const values = secretValuesOf(other);
    if (values) this.add(...values);
    return this;
  }

  /** How many forms of the secrets are matched (each secret in every encoding it may appear in). */
  get size(): number {
    return this.#variants().size;
  }

  #variants(): Set<string> {
    if (this.#secrets === undefined) {
      this.#secrets = new Set();
      for (const s of this.#originals) for (const v of variants(s)) this.#secrets.add(v);
    }
    return this.#secrets;
  }

  redact(text: string): string {
    const secrets = this.#variants();
    if (secrets.size > 0) {
      this.#pattern ??= new RegExp(
        [...secrets]
          .sort((a, b) => b.length - a.length)
          .map(patternOf)
          .join('|'),
        'g',
      );
      // Across line breaks first: a shorter variant (the Base64 middle of a secret inside a longer
      // Basic credential) matched in the raw text would break up the longer one split by a line
      // break. Then the raw text, for variants that contain a line break themselves.
      if (/[\r\n]/.test(text)) text = redactAcrossBreaks(text, this.#pattern, LINE_BREAK);
      if (/\\[rn]/.test(text)) text = redactAcrossBreaks(text, this.#pattern, ESCAPED_LINE_BREAK);
      text = text.replace(this.#pattern, REDACTED);
    }
    return redactPatterns(text);
  }

  toJSON(): { size: number } {
    return { size: this.size };
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
 * @param secrets - the secrets to remove, matched literally and in their wire encodings; a
 *   SecretSet from another copy of this package works too
 */
export function redact(text: string, secrets?: Iterable<string> | SecretSet): string {
  if (secrets instanceof SecretSet) return secrets.redact(text);
  const set = new SecretSet();
  const values = secretValuesOf(secrets) ?? secrets;
  if (values) set.add(...values);
  return set.redact(text);
}
