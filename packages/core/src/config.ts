/** `configFromEnv()`: the whole client configuration from `PRODO_AUTH_*` variables. */
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from './client-auth.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { Grant } from './grant.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { jsonLoginGrant } from './grants/json-login.js';
import { passwordGrant } from './grants/password.js';
import { staticTokenGrant } from './grants/static-token.js';
import { bioProdict } from './presets/bio-prodict.js';
import { petrosoft } from './presets/petrosoft.js';
import { procurios } from './presets/procurios.js';
import { prodoscore } from './presets/prodoscore.js';
import type { TokenClientOptions } from './token-client.js';

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
  /** Signs the session cookie in user mode. Not enumerable, so it never shows in logs. */
  sessionSecret?: string | undefined;
  redisUrl?: string | undefined;
}

/** The vendor presets `PRODO_AUTH_PRESET` can name. */
export type PresetName = 'prodoscore' | 'bio-prodict' | 'procurios' | 'petrosoft';
export const PRESET_NAMES: readonly PresetName[] = ['prodoscore', 'bio-prodict', 'procurios', 'petrosoft'];

export type Env = Record<string, string | undefined>;

const PREFIX = 'PRODO_AUTH_';

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
    const v = env[PREFIX + name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const issue = (name: string, message: string): void => {
    issues.push({ path: PREFIX + name, message });
  };

  const preset = get('PRESET');
  const presetGrants = preset === undefined ? undefined : PRESET_GRANTS[preset as PresetName];
  if (preset !== undefined && presetGrants === undefined) issue('PRESET', `must be one of ${PRESET_NAMES.join(', ')}`);
  let grantName = get('GRANT');
  if (presetGrants !== undefined) {
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
  if (clientAuth !== undefined && !(CLIENT_AUTH_METHODS as readonly string[]).includes(clientAuth)) {
    issue('CLIENT_AUTH', `must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
  }
  for (const name of ['TOKEN_URL', 'AUTHORIZE_URL', 'REFRESH_URL', 'API_URL', 'BASE_URL', 'REDIRECT_URI']) {
    const v = get(name);
    if (v !== undefined && !URL.canParse(v)) issue(name, 'must be an absolute URL');
  }
  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) issue('REDIS_URL', 'must be a redis:// or rediss:// URL');
  const sessionSecret = get('SESSION_SECRET');
  if (sessionSecret !== undefined && sessionSecret.length < MIN_SESSION_SECRET) {
    issue('SESSION_SECRET', `must be at least ${MIN_SESSION_SECRET} characters`);
  }
  const grant = grantName as GrantName;
  const required = presetGrants === undefined ? REQUIRED[grant] : presetGrants[grant];
  const context = preset === undefined ? `PRODO_AUTH_GRANT=${grant}` : `PRODO_AUTH_PRESET=${preset}`;
  for (const name of required ?? []) if (get(name) === undefined) issue(name, `is required for ${context}`);
  if (issues.length > 0) throw new ConfigError('Invalid PRODO_AUTH_* environment', dedupe(issues));

  let built: TokenClientOptions;
  try {
    built =
      preset === undefined
        ? { grant: buildGrant(grant, get, clientAuth as ClientAuthMethod | undefined), apiUrl: get('API_URL') }
        : buildPreset(preset as PresetName, grant, get);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const mapped = error.issues.map((i) => ({ path: PREFIX + (VARIABLE_OF[i.path] ?? i.path), message: i.message }));
    throw new ConfigError('Invalid PRODO_AUTH_* environment', mapped);
  }
  const config: ProdoAuthConfig = {
    ...built,
    mode: grant === 'authorization_code' ? 'user' : 'service',
    redirectUri: get('REDIRECT_URI'),
    redisUrl,
  };
  Object.defineProperty(config, 'sessionSecret', { value: sessionSecret, enumerable: false });
  return config;
}

function buildGrant(grant: GrantName, get: (name: string) => string | undefined, clientAuth?: ClientAuthMethod): Grant {
  const client = { clientId: get('CLIENT_ID')!, clientSecret: get('CLIENT_SECRET'), clientAuth };
  switch (grant) {
    case 'password':
      return passwordGrant({
        ...client,
        tokenUrl: get('TOKEN_URL')!,
        username: get('USERNAME')!,
        password: get('PASSWORD')!,
        scope: get('SCOPE'),
      });
    case 'client_credentials':
      return clientCredentialsGrant({ ...client, clientSecret: get('CLIENT_SECRET')!, tokenUrl: get('TOKEN_URL')!, scope: get('SCOPE') });
    case 'authorization_code':
      return authorizationCodeGrant({
        ...client,
        authorizeUrl: get('AUTHORIZE_URL')!,
        tokenUrl: get('TOKEN_URL')!,
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
      return petrosoft({ login: get('USERNAME')!, password: get('PASSWORD')!, baseUrl: get('BASE_URL')! });
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.path) && seen.add(i.path));
}
