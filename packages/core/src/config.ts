/** `configFromEnv()`: the whole client configuration from `PRODO_AUTH_*` variables. */
import { CLIENT_AUTH_METHODS, type ClientAuthentication, type ClientAuthMethod } from './client-auth.js';
import { selfSignedTlsClientAuth, tlsClientAuth } from './client-auth-mtls.js';
import { ConfigError, ErrorCode, isProdoAuthError, type ConfigIssue } from './errors.js';
import type { Grant } from './grant.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant, type ClientCredentialsGrantOptions } from './grants/client-credentials.js';
import { jsonLoginGrant } from './grants/json-login.js';
import { passwordGrant } from './grants/password.js';
import { staticTokenGrant } from './grants/static-token.js';
import { bioProdict } from './presets/bio-prodict.js';
import { petrosoft } from './presets/petrosoft.js';
import { procurios } from './presets/procurios.js';
import { prodoscore } from './presets/prodoscore.js';
import type { TokenClientOptions } from './token-client.js';
import { didYouMean, ownOption } from './validation.js';

/** The grants `PRODO_AUTH_GRANT` can name. */
export type GrantName = 'password' | 'client_credentials' | 'authorization_code' | 'json_login' | 'static';
export const GRANT_NAMES: readonly GrantName[] = [
  'password',
  'client_credentials',
  'authorization_code',
  'json_login',
  'static',
];

/** Options for `createTokenClient`, plus what the framework adapters need. */
export interface ProdoAuthConfig extends TokenClientOptions {
  /** `user` for the authorization code grant (browser login), `service` for the others. */
  mode: 'service' | 'user';
  redirectUri?: string | undefined;
  /**
   * Signs the session cookie in user mode. Read it as a property: it is not enumerable, so it never
   * shows in logs, `util.inspect` or JSON, and a spread (`{ ...config }`) does not copy it.
   */
  sessionSecret?: string | undefined;
  /**
   * The Redis URL for a shared store, which often holds a password. Not enumerable, like
   * `sessionSecret`.
   */
  redisUrl?: string | undefined;
}

/** The vendor presets `PRODO_AUTH_PRESET` can name. */
export type PresetName = 'prodoscore' | 'bio-prodict' | 'procurios' | 'petrosoft';
export const PRESET_NAMES: readonly PresetName[] = ['prodoscore', 'bio-prodict', 'procurios', 'petrosoft'];

export type Env = Record<string, string | undefined>;

const PREFIX = 'PRODO_AUTH_';

/** Every variable configFromEnv reads, without the prefix; any other `PRODO_AUTH_*` is refused as a likely typo. */
const VARIABLES: readonly string[] = [
  'PRESET',
  'GRANT',
  'TOKEN_URL',
  'AUTHORIZE_URL',
  'REFRESH_URL',
  'BASE_URL',
  'API_URL',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'CLIENT_AUTH',
  'USERNAME',
  'PASSWORD',
  'TWO_FACTOR',
  'SCOPE',
  'REDIRECT_URI',
  'TOKEN',
  'SESSION_SECRET',
  'REDIS_URL',
  'ISSUER',
  'REVOCATION_URL',
  'PRIVATE_KEY',
  'TLS_CERT',
  'TLS_KEY',
  'TLS_CA',
];
/** The mutual-TLS methods, named in `PRODO_AUTH_CLIENT_AUTH` only: their value is made here from `TLS_CERT` and `TLS_KEY`. */
const TLS_METHODS: readonly string[] = ['tls_client_auth', 'self_signed_tls_client_auth'];
const ENV_CLIENT_AUTH_METHODS: readonly string[] = [...CLIENT_AUTH_METHODS, ...TLS_METHODS];
/** PEM from an environment variable, where line breaks are often written as `\n`. */
const pemOf = (value: string | undefined): string | undefined => value?.replace(/\\n/g, '\n');
const URL_VARIABLES: readonly string[] = [
  'TOKEN_URL',
  'AUTHORIZE_URL',
  'REFRESH_URL',
  'API_URL',
  'BASE_URL',
  'REDIRECT_URI',
  'ISSUER',
  'REVOCATION_URL',
];
/** With `PRODO_AUTH_ISSUER`, discovery supplies these: they are no longer required. */
const DISCOVERABLE: readonly string[] = ['TOKEN_URL', 'AUTHORIZE_URL'];
/** The grants that take an issuer (standard OAuth servers), outside any preset. */
const ISSUER_GRANTS: readonly GrantName[] = ['password', 'client_credentials', 'authorization_code'];

// Option names, as grant validation reports them, and the variables that carry them.
const VARIABLE_OF: Record<string, string> = {
  tokenUrl: 'TOKEN_URL',
  authorizeUrl: 'AUTHORIZE_URL',
  refreshUrl: 'REFRESH_URL',
  clientId: 'CLIENT_ID',
  clientSecret: 'CLIENT_SECRET',
  clientAuth: 'CLIENT_AUTH',
  username: 'USERNAME',
  password: 'PASSWORD',
  scope: 'SCOPE',
  redirectUri: 'REDIRECT_URI',
  token: 'TOKEN',
  apiUrl: 'API_URL',
  login: 'USERNAME',
  baseUrl: 'BASE_URL',
  twoFactor: 'TWO_FACTOR',
  issuer: 'ISSUER',
  revocationUrl: 'REVOCATION_URL',
  privateKey: 'PRIVATE_KEY',
};

const REQUIRED: Record<GrantName, readonly string[]> = {
  password: ['TOKEN_URL', 'CLIENT_ID', 'USERNAME', 'PASSWORD'],
  client_credentials: ['TOKEN_URL', 'CLIENT_ID', 'CLIENT_SECRET'],
  authorization_code: ['AUTHORIZE_URL', 'TOKEN_URL', 'CLIENT_ID', 'REDIRECT_URI', 'SESSION_SECRET'],
  json_login: ['TOKEN_URL', 'USERNAME', 'PASSWORD'],
  static: ['TOKEN'],
};

/** The grants each preset supports (the first is its default), and the variables each needs. */
const PRESET_GRANTS: Record<PresetName, Partial<Record<GrantName, readonly string[]>>> = {
  prodoscore: { password: ['CLIENT_ID', 'USERNAME', 'PASSWORD'], static: ['TOKEN'] },
  'bio-prodict': { password: ['CLIENT_ID', 'CLIENT_SECRET', 'USERNAME', 'PASSWORD'] },
  procurios: {
    client_credentials: ['TOKEN_URL', 'CLIENT_ID', 'CLIENT_SECRET'],
    authorization_code: ['AUTHORIZE_URL', 'TOKEN_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'REDIRECT_URI', 'SESSION_SECRET'],
  },
  petrosoft: { json_login: ['BASE_URL', 'USERNAME', 'PASSWORD'] },
};

const MIN_SESSION_SECRET = 32;

/**
 * Reads the client configuration from `PRODO_AUTH_*` environment variables. Every missing or
 * invalid variable is named in one ConfigError; no value is ever printed.
 *
 * @param env - the environment to read
 * @default env process.env
 * @example
 * // PRODO_AUTH_GRANT=client_credentials PRODO_AUTH_TOKEN_URL=... PRODO_AUTH_CLIENT_ID=... PRODO_AUTH_CLIENT_SECRET=...
 * const client = createTokenClient(configFromEnv());
 */
export function configFromEnv(env: Env = process.env): ProdoAuthConfig {
  const issues: ConfigIssue[] = [];
  const get = (name: string): string | undefined => {
    const v = ownOption<string>(env, PREFIX + name)?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const issue = (name: string, message: string): void => {
    issues.push({ path: PREFIX + name, message });
  };

  // Names only, never values: a misspelled PRODO_AUTH_CLIENT_SECRET holds a secret.
  const known = VARIABLES.map((name) => PREFIX + name);
  for (const name of Object.keys(env)) {
    if (name.startsWith(PREFIX) && env[name] !== undefined && !known.includes(name)) {
      issues.push({ path: name, message: `is not a prodo-auth variable${didYouMean(name, known)}` });
    }
  }

  const preset = get('PRESET');
  const presetGrants = preset === undefined ? undefined : Object.hasOwn(PRESET_GRANTS, preset) ? PRESET_GRANTS[preset as PresetName] : undefined;
  const unknownPreset = preset !== undefined && presetGrants === undefined;
  if (unknownPreset) issue('PRESET', `must be one of ${PRESET_NAMES.join(', ')}`);
  let grantName = get('GRANT');
  if (unknownPreset) {
    // Which grants and variables apply depends on the preset: one issue, not a cascade.
    if (grantName !== undefined && !(GRANT_NAMES as readonly string[]).includes(grantName)) {
      issue('GRANT', `must be one of ${GRANT_NAMES.join(', ')}`);
    }
  } else if (presetGrants !== undefined) {
    const supported = Object.keys(presetGrants);
    grantName ??= preset === 'prodoscore' && get('TOKEN') !== undefined ? 'static' : supported[0];
    if (!supported.includes(grantName!)) issue('GRANT', `must be one of ${supported.join(', ')} with PRODO_AUTH_PRESET=${preset}`);
  } else {
    grantName ??= get('TOKEN') !== undefined ? 'static' : undefined;
    if (grantName === undefined) {
      issue('GRANT', `is required: one of ${GRANT_NAMES.join(', ')}`);
    } else if (!(GRANT_NAMES as readonly string[]).includes(grantName)) {
      issue('GRANT', `must be one of ${GRANT_NAMES.join(', ')}`);
    }
  }
  const clientAuth = get('CLIENT_AUTH');
  if (clientAuth !== undefined && !ENV_CLIENT_AUTH_METHODS.includes(clientAuth)) {
    issue('CLIENT_AUTH', `must be one of ${ENV_CLIENT_AUTH_METHODS.join(', ')}`);
  }
  for (const name of URL_VARIABLES) {
    const v = get(name);
    if (v === undefined) continue;
    if (!URL.canParse(v)) issue(name, 'must be an absolute URL');
    else if (new URL(v).username !== '' || new URL(v).password !== '') {
      issue(name, 'must not contain a user name or password (user:pass@host): use the credential variables');
    }
  }
  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) issue('REDIS_URL', 'must be a redis:// or rediss:// URL');
  const sessionSecret = get('SESSION_SECRET');
  if (sessionSecret !== undefined && sessionSecret.length < MIN_SESSION_SECRET) {
    issue('SESSION_SECRET', `must be at least ${MIN_SESSION_SECRET} characters`);
  }
  const grant = grantName as GrantName;
  const required = unknownPreset ? [] : presetGrants === undefined ? REQUIRED[grant] : presetGrants[grant];
  const context = preset === undefined ? `PRODO_AUTH_GRANT=${grant}` : `PRODO_AUTH_PRESET=${preset}`;
  const issuer = get('ISSUER');
  const discovers = issuer !== undefined && preset === undefined && ISSUER_GRANTS.includes(grant);
  if (preset !== undefined || (grant !== undefined && !ISSUER_GRANTS.includes(grant))) {
    for (const name of ['ISSUER', 'REVOCATION_URL']) {
      if (get(name) !== undefined) issue(name, `is not used with ${context}: only the password, client_credentials and authorization_code grants without a preset take it`);
    }
  }
  // A signed client assertion, or the TLS client certificate, replaces the secret.
  const tls = clientAuth !== undefined && TLS_METHODS.includes(clientAuth);
  const secretless = clientAuth === 'private_key_jwt' || tls;
  if (clientAuth === 'private_key_jwt' && get('PRIVATE_KEY') === undefined) {
    issue('PRIVATE_KEY', 'is required with PRODO_AUTH_CLIENT_AUTH=private_key_jwt (a PEM private key; \\n escapes are read as line breaks)');
  }
  for (const name of ['TLS_CERT', 'TLS_KEY']) {
    if (tls && get(name) === undefined) issue(name, `is required with PRODO_AUTH_CLIENT_AUTH=${clientAuth} (PEM; \\n escapes are read as line breaks)`);
  }
  for (const name of ['TLS_CERT', 'TLS_KEY', 'TLS_CA']) {
    if (!tls && get(name) !== undefined) issue(name, 'is used only with PRODO_AUTH_CLIENT_AUTH=tls_client_auth or self_signed_tls_client_auth');
  }
  for (const name of required ?? []) {
    if (get(name) !== undefined || (discovers && DISCOVERABLE.includes(name)) || (secretless && name === 'CLIENT_SECRET')) continue;
    issue(name, `is required for ${context}${DISCOVERABLE.includes(name) && ISSUER_GRANTS.includes(grant) && preset === undefined ? ' (or set PRODO_AUTH_ISSUER to discover it)' : ''}`);
  }
  if (issues.length > 0) throw new ConfigError('Invalid PRODO_AUTH_* environment', dedupe(issues));

  let built: TokenClientOptions;
  try {
    built =
      preset === undefined
        ? { grant: buildGrant(grant, get, envClientAuth(clientAuth, get)), apiUrl: get('API_URL') }
        : buildPreset(preset as PresetName, grant, get);
  } catch (error) {
    // A code check, not instanceof: the grants may come from another copy of this package.
    if (!isProdoAuthError(error) || error.code !== ErrorCode.CONFIG) throw error;
    const mapped = ((error as ConfigError).issues ?? []).map((i) => {
      const [field = '', ...rest] = i.path.split('.');
      const variable = VARIABLE_OF[field];
      return { path: variable === undefined ? i.path : [PREFIX + variable, ...rest].join('.'), message: i.message };
    });
    throw new ConfigError('Invalid PRODO_AUTH_* environment', mapped);
  }
  const config: ProdoAuthConfig = {
    ...built,
    mode: grant === 'authorization_code' ? 'user' : 'service',
    redirectUri: get('REDIRECT_URI'),
  };
  hide(config, 'sessionSecret', sessionSecret);
  hide(config, 'redisUrl', redisUrl);
  return config;
}

/**
 * Puts a secret-bearing setting on the config as a non-enumerable accessor: readable and
 * writable as a property, but absent from `Object.keys`, spreads, JSON and `util.inspect` (even
 * with `showHidden`, which prints `[Getter/Setter]`, not the value).
 */
function hide(config: ProdoAuthConfig, key: 'sessionSecret' | 'redisUrl', initial: string | undefined): void {
  let value = initial;
  Object.defineProperty(config, key, {
    enumerable: false,
    configurable: true,
    get: () => value,
    set: (next: string | undefined) => {
      value = next;
    },
  });
}

/** `PRODO_AUTH_CLIENT_AUTH` as a grant's `clientAuth`: a method name, or the mutual-TLS value made from the TLS variables. */
function envClientAuth(method: string | undefined, get: (name: string) => string | undefined): ClientAuthMethod | ClientAuthentication | undefined {
  if (method === undefined || !TLS_METHODS.includes(method)) return method as ClientAuthMethod | undefined;
  const options = { cert: pemOf(get('TLS_CERT'))!, key: pemOf(get('TLS_KEY'))!, ca: pemOf(get('TLS_CA')) };
  try {
    return method === 'tls_client_auth' ? tlsClientAuth(get('CLIENT_ID')!, options) : selfSignedTlsClientAuth(get('CLIENT_ID')!, options);
  } catch (error) {
    if (!isProdoAuthError(error) || error.code !== ErrorCode.CONFIG) throw error;
    const issues = ((error as ConfigError).issues ?? []).map((i) => ({
      path: `${PREFIX}${i.path === 'cert' ? 'TLS_CERT' : i.path === 'key' ? 'TLS_KEY' : i.path === 'ca' ? 'TLS_CA' : 'CLIENT_AUTH'}`,
      message: i.message,
    }));
    throw new ConfigError('Invalid PRODO_AUTH_* environment', issues);
  }
}

function buildGrant(grant: GrantName, get: (name: string) => string | undefined, clientAuth?: ClientAuthMethod | ClientAuthentication): Grant {
  const client = { clientId: get('CLIENT_ID')!, clientSecret: get('CLIENT_SECRET'), clientAuth, privateKey: get('PRIVATE_KEY') };
  const endpoints = { issuer: get('ISSUER'), revocationUrl: get('REVOCATION_URL'), tokenUrl: get('TOKEN_URL') };
  switch (grant) {
    case 'password':
      return passwordGrant({
        ...client,
        ...endpoints,
        username: get('USERNAME')!,
        password: get('PASSWORD')!,
        scope: get('SCOPE'),
      });
    case 'client_credentials':
      // Validation at construction checks what the types cannot: which auth method needs which credential.
      return clientCredentialsGrant({ ...client, ...endpoints, scope: get('SCOPE') } as ClientCredentialsGrantOptions);
    case 'authorization_code':
      return authorizationCodeGrant({
        ...client,
        ...endpoints,
        authorizeUrl: get('AUTHORIZE_URL'),
        redirectUri: get('REDIRECT_URI')!,
        scope: get('SCOPE'),
      });
    case 'json_login':
      return jsonLoginGrant({
        tokenUrl: get('TOKEN_URL')!,
        refreshUrl: get('REFRESH_URL'),
        username: get('USERNAME')!,
        password: get('PASSWORD')!,
      });
    case 'static':
      return staticTokenGrant({ token: get('TOKEN')! });
  }
}

function buildPreset(preset: PresetName, grant: GrantName, get: (name: string) => string | undefined): TokenClientOptions {
  const apiUrl = get('API_URL');
  switch (preset) {
    case 'prodoscore':
      return grant === 'static'
        ? prodoscore.browserToken(get('TOKEN')!, { apiUrl })
        : prodoscore({
            clientId: get('CLIENT_ID')!,
            username: get('USERNAME')!,
            password: get('PASSWORD')!,
            tokenUrl: get('TOKEN_URL'),
            apiUrl,
          });
    case 'bio-prodict':
      return bioProdict({
        clientId: get('CLIENT_ID')!,
        clientSecret: get('CLIENT_SECRET')!,
        username: get('USERNAME')!,
        password: get('PASSWORD')!,
        twoFactor: get('TWO_FACTOR'),
        tokenUrl: get('TOKEN_URL'),
        apiUrl,
      });
    case 'procurios': {
      const common = {
        tokenUrl: get('TOKEN_URL')!,
        clientId: get('CLIENT_ID')!,
        clientSecret: get('CLIENT_SECRET')!,
        scope: get('SCOPE'),
        apiUrl,
      };
      return grant === 'authorization_code'
        ? procurios.authorizationCode({ ...common, authorizeUrl: get('AUTHORIZE_URL')!, redirectUri: get('REDIRECT_URI')! })
        : procurios.clientCredentials(common);
    }
    case 'petrosoft':
      return petrosoft({ login: get('USERNAME')!, password: get('PASSWORD')!, baseUrl: get('BASE_URL')!, apiUrl });
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.path) && seen.add(i.path));
}
