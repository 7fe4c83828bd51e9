/** Validation of `createTokenClient` options, at construction. */
import type { Dispatcher } from 'undici';
import type { Grant } from './grant.js';
import type { TokenStore } from './store.js';
import type { TokenClientOptions } from './token-client.js';
import { endpointUrl, ignored, insecureField, number, object, optional, parseOptions, shape, stringRecord, text } from './validation.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

// Grants, stores and dispatchers are interfaces anyone may implement (and may come from another
// copy of this package): they are recognised by shape, never by class.
const schema = {
  grant: shape<Grant>((g) => isObject(g) && typeof g.obtain === 'function', 'must be a grant, e.g. passwordGrant({...})'),
  apiUrl: optional(endpointUrl),
  apiHeaders: optional(stringRecord),
  store: optional(
    shape<TokenStore>(
      (s) => isObject(s) && ['get', 'set', 'delete'].every((m) => typeof s[m] === 'function'),
      'must implement get, set and delete',
    ),
  ),
  storeKey: optional(text('must not be empty')),
  refreshSkewSeconds: optional(number({ min: 0 })),
  timeoutMs: optional(number({ integer: true, positive: true })),
  dispatcher: optional(shape<Dispatcher>(isObject, 'must be an undici Dispatcher')),
  maxResponseBytes: optional(number({ integer: true, positive: true })),
  retry: optional(
    object(
      {
        retries: optional(number({ integer: true, min: 0, max: 10 })),
        minDelayMs: optional(number({ min: 0 })),
        maxDelayMs: optional(number({ min: 0 })),
      },
      'createTokenClient({ retry })',
    ),
  ),
  ...insecureField,
  // What configFromEnv() adds for the framework adapters, so that
  // `createTokenClient(configFromEnv())` works: known, and not used here.
  mode: ignored,
  redirectUri: ignored,
  redisUrl: ignored,
  sessionSecret: ignored,
};

/** Parses `createTokenClient` options, throwing one ConfigError that names every bad or unknown field. */
export function parseTokenClientOptions(options: TokenClientOptions): TokenClientOptions {
  return parseOptions(schema, options, 'createTokenClient') as TokenClientOptions;
}
