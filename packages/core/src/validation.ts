/**
 * Option validation shared by every factory. A schema is a plain object of field checks; parsing
 * an options object runs every check and throws one ConfigError that names every bad field and
 * how to fix it, never a value.
 *
 * Written here rather than taken from a schema library: validation runs synchronously at
 * construction (so it cannot be loaded lazily), it is paid on every serverless cold start, and
 * its product is the error message, which a generic library words in terms of types.
 */
import { ConfigError, type ConfigIssue } from './errors.js';

/**
 * Records a problem with the value being checked, at `path` below it (the value itself when
 * omitted). The message says what is wrong and how to fix it; it never contains the value.
 */
export type Report = (message: string, path?: string) => void;

/**
 * One field's check. Returns the field's value (normalised where the check says so), or calls
 * `report`, after which what it returns is ignored. `options` is the whole options object, for
 * the rules that depend on another field (`dangerouslyAllowInsecureHttp`, `clientAuth`).
 */
export type Check<T> = (value: unknown, report: Report, options: Readonly<Record<string, unknown>>) => T;

/** A schema: every option a factory accepts, each with its check. Any other key is refused. */
export type Schema = Readonly<Record<string, Check<unknown>>>;

/** What {@link parseOptions} returns for a schema: each field's checked value. */
export type Parsed<TSchema extends Schema> = { -readonly [K in keyof TSchema]: ReturnType<TSchema[K]> };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for http(s) URLs on this machine, where plain http cannot be intercepted. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/**
 * An option's value, read from the options object itself only: an inherited property (a polluted
 * `Object.prototype`, a class instance's getter chain) never counts as an option.
 */
export function ownOption<T>(options: object | undefined, key: string): T | undefined {
  return options !== undefined && options !== null && Object.hasOwn(options, key)
    ? ((options as Record<string, unknown>)[key] as T)
    : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The field may be left out (or set to `undefined`); when present, `check` applies. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, report, options) => (value === undefined ? undefined : check(value, report, options));
}

/**
 * A required string with something in it besides whitespace (an id, a user name, a state).
 *
 * @param missing - the message for a missing or blank value
 * @default missing 'is required'
 */
export function text(missing = 'is required'): Check<string> {
  return (value, report) => {
    if (value === undefined || (typeof value === 'string' && value.trim() === '')) report(missing);
    else if (typeof value !== 'string') report('must be a string');
    return value as string;
  };
}

/**
 * A required secret (a password, a client secret): any non-empty string, spaces included.
 *
 * @param missing - the message for a missing or empty value
 * @default missing 'is required'
 */
export function secret(missing = 'is required'): Check<string> {
  return (value, report) => {
    if (value === undefined || value === '') report(missing);
    else if (typeof value !== 'string') report('must be a string');
    return value as string;
  };
}

/** One of a fixed list of names. */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, report) => {
    if (!(values as readonly unknown[]).includes(value)) report(`must be one of ${values.join(', ')}`);
    return value as T;
  };
}

/** `true` or `false`. */
export const boolean: Check<boolean> = (value, report) => {
  if (typeof value !== 'boolean') report('must be true or false');
  return value as boolean;
};

/** A function (a code source, a callback). */
export const func: Check<(...args: never[]) => unknown> = (value, report) => {
  if (typeof value !== 'function') report('must be a function');
  return value as (...args: never[]) => unknown;
};

export interface NumberRule {
  /** Smallest allowed value. */
  min?: number;
  /** Largest allowed value. */
  max?: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Strictly greater than 0. */
  positive?: boolean;
}

/** A finite number within the rule's bounds. */
export function number(rule: NumberRule = {}): Check<number> {
  return (value, report) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) report('must be a finite number');
    else if (rule.integer && !Number.isInteger(value)) report('must be a whole number');
    else if (rule.positive && value <= 0) report('must be greater than 0');
    else if (rule.min !== undefined && value < rule.min) report(`must be at least ${rule.min}`);
    else if (rule.max !== undefined && value > rule.max) report(`must be at most ${rule.max}`);
    return value as number;
  };
}

/** An object whose values are strings (headers, extra parameters). */
export const stringRecord: Check<Record<string, string>> = (value, report) => {
  if (!isRecord(value)) report('must be an object of strings');
  else for (const [key, v] of Object.entries(value)) if (typeof v !== 'string') report('must be a string', key);
  return value as Record<string, string>;
};

/** An object whose values are strings or functions that produce one (a fresh one-time code). */
export const paramSourceRecord: Check<Record<string, string | (() => string | Promise<string>)>> = (value, report) => {
  if (!isRecord(value)) report('must be an object of strings or functions');
  else {
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== 'string' && typeof v !== 'function') report('must be a string or a function', key);
    }
  }
  return value as Record<string, string | (() => string | Promise<string>)>;
};

/** A value that passes `test`, e.g. an object of a known shape. Shapes, never classes: a value may come from another copy of this package. */
export function shape<T>(test: (value: unknown) => boolean, message: string): Check<T> {
  return (value, report) => {
    if (!test(value)) report(message);
    return value as T;
  };
}

/** Accepted and not checked: a key a factory knows but does not use (what `configFromEnv` adds for the adapters). */
export const ignored: Check<unknown> = (value) => value;

/** `scope` as a space-separated string or an array of scopes, normalised to a string; `[]` is no scope. */
export const scope: Check<string | undefined> = (value, report) => {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') report('must not be empty: omit it to request no scope');
    return trimmed;
  }
  if (!Array.isArray(value)) {
    report('must be a space-separated string or an array of strings');
    return undefined;
  }
  value.forEach((s: unknown, i) => {
    if (typeof s !== 'string' || s.trim() === '') report('must be a non-empty string', String(i));
  });
  return value.length === 0 ? undefined : value.join(' ');
};

const USERINFO = 'must not contain a user name or password (user:pass@host): pass credentials as their own options';

/** Parses an absolute URL and refuses credentials in it. The messages never show the URL, which may hold them. */
function parseUrl(value: unknown, report: Report, schemes: RegExp | undefined): URL | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    report(schemes === undefined ? 'must be an absolute URL' : 'must be an absolute http(s) URL');
    return undefined;
  }
  const url = new URL(value);
  if (schemes !== undefined && !schemes.test(url.protocol)) {
    report('must be an absolute http(s) URL');
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    report(USERINFO);
    return undefined;
  }
  return url;
}

/** An absolute URL of any scheme, without credentials in it (a redirect URI may be an app's own scheme). */
export const absoluteUrl: Check<string> = (value, report) => {
  parseUrl(value, report, undefined);
  return value as string;
};

/** An absolute http(s) URL without credentials in it. Plain http off loopback is left to the grant or client that uses it. */
export const httpUrl: Check<string> = (value, report) => {
  parseUrl(value, report, /^https?:$/);
  return value as string;
};

/**
 * An endpoint that receives secrets or tokens: an absolute http(s) URL without credentials in it,
 * and plain http only on loopback unless the options set `dangerouslyAllowInsecureHttp: true`.
 */
export const endpointUrl: Check<string> = (value, report, options) => {
  const url = parseUrl(value, report, /^https?:$/);
  if (url?.protocol === 'http:' && !isLoopback(url) && options.dangerouslyAllowInsecureHttp !== true) {
    report('must use https (plain http is accepted on loopback only; see dangerouslyAllowInsecureHttp)');
  }
  return value as string;
};

/** The opt-in to plain http off loopback, shared by every factory that sends secrets or tokens. */
export const insecureField: { dangerouslyAllowInsecureHttp: Check<boolean | undefined> } = {
  /**
   * Allow plain `http:` endpoints off loopback. Tokens and secrets then cross the network in
   * clear text: only for tests behind a trusted network.
   */
  dangerouslyAllowInsecureHttp: optional(boolean),
};

/** A nested options object (`retry`), checked like the top level: unknown keys are refused. `where` names it in messages. */
export function object<TSchema extends Schema>(schema: TSchema, where: string): Check<Parsed<TSchema>> {
  return (value, report) => {
    if (!isRecord(value)) {
      report('must be an object');
      return value as Parsed<TSchema>;
    }
    return checkFields(schema, value, where, report);
  };
}

// Optimal string alignment distance: a swapped pair of letters counts as one edit.
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name a misspelled one most likely meant: the same name in another case (or with `_`
 * and `-` left out) first, then the closest by edit distance, only when it is close.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const folded = fold(name);
  const same = known.find((k) => fold(k) === folded);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(folded, fold(k));
    if (distance < bestDistance) [best, bestDistance] = [k, distance];
  }
  return bestDistance <= Math.min(2, Math.floor(folded.length / 3)) ? best : undefined;
}

/** ` did you mean X?` for a misspelled name, or nothing. */
export function didYouMean(name: string, known: readonly string[]): string {
  const nearest = nearestName(name, known);
  return nearest === undefined ? '' : `; did you mean ${nearest}?`;
}

function checkFields<TSchema extends Schema>(
  schema: TSchema,
  input: Record<string, unknown>,
  where: string,
  report: Report,
): Parsed<TSchema> {
  const known = Object.keys(schema);
  // A key set to undefined is how optional settings are passed through (`apiUrl: env.API_URL`).
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(schema, key) && input[key] !== undefined) report(`is not an option of ${where}${didYouMean(key, known)}`, key);
  }
  // Own properties only: an inherited `dangerouslyAllowInsecureHttp` (a polluted prototype) is no opt-in.
  const own: Record<string, unknown> = {};
  for (const key of known) own[key] = ownOption(input, key);
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const sub: Report = (message, path) => report(message, path === undefined ? key : `${key}.${path}`);
    out[key] = schema[key]!(own[key], sub, own);
  }
  return out as Parsed<TSchema>;
}

/**
 * Checks options at construction against `schema`, throwing one ConfigError that names every bad
 * or unknown field. Returns the checked values (scopes normalised); keys outside the schema are
 * refused, so a misspelled option never goes unnoticed.
 *
 * @param where - the factory, as messages name it: `passwordGrant`, `procurios.clientCredentials`
 */
export function parseOptions<TSchema extends Schema>(schema: TSchema, input: unknown, where: string): Parsed<TSchema> {
  const issues: ConfigIssue[] = [];
  const report: Report = (message, path) => {
    issues.push({ path: path ?? '(options)', message });
  };
  const label = `${where}(...)`;
  let out: Parsed<TSchema> | undefined;
  if (isRecord(input)) out = checkFields(schema, input, label, report);
  else report(`must be an options object: ${where}({ ... })`);
  if (issues.length > 0 || out === undefined) throw new ConfigError(`Invalid ${where} options`, issues);
  return out;
}
