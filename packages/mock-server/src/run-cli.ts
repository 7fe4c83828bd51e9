/** The `prodo-auth-mock` command: start one vendor simulation, print how to reach it, stop on a signal. */
import { parseArgs } from 'node:util';
import { VENDORS, type MockServerOptions, type Vendor } from './options.js';
import { startMockServer, type MockServer } from './server.js';

/** Where the CLI writes, and what stops it. */
export interface CliIo {
  /** @default process.stdout */
  stdout?: { write(text: string): unknown } | undefined;
  /** @default process.stderr */
  stderr?: { write(text: string): unknown } | undefined;
  /** Stops the server when aborted. Without it, SIGINT and SIGTERM stop it. */
  signal?: AbortSignal | undefined;
  /** Called once the server listens, before the CLI waits for the stop signal. */
  onListening?: ((server: MockServer) => void) | undefined;
}

const USAGE = `Usage: prodo-auth-mock --vendor <${VENDORS.join('|')}> [options]

Simulates a vendor's auth server and a protected sample API on a loopback address.

Options:
  --vendor <name>            the vendor to simulate (required)
  --port <n>                 port to listen on; 0 picks a free one (default 0)
  --host <address>           loopback address to listen on (default 127.0.0.1)
  --access-token-ttl <s>     access token lifetime in seconds (default: the vendor's)
  --refresh-token-ttl <s>    refresh token lifetime in seconds (default: the vendor's)
  --latency <ms>             delay every answer by this many milliseconds
  --consent                  procurios: show a consent page instead of approving at once
  --single-quoted            procurios: answer the code exchange with the doc's literal {'access_token': '...'}
  --json                     print the URLs and credentials as one line of JSON
  -h, --help                 show this help

Stops on SIGINT (Ctrl+C) or SIGTERM.
`;

/**
 * Runs the CLI with the given arguments until the signal (or SIGINT / SIGTERM) stops it.
 *
 * @param argv - the arguments after the command name
 * @param io - output streams and the stop signal
 * @returns the exit code: 0 after a clean stop, 2 for bad arguments, 1 when the server cannot start
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let options: MockServerOptions;
  let json: boolean;
  try {
    const parsed = parseCliArgs(argv);
    if (parsed === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    ({ options, json } = parsed);
  } catch (error) {
    stderr.write(`prodo-auth-mock: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let server: MockServer;
  try {
    server = await startMockServer(options);
  } catch (error) {
    const code = error instanceof TypeError ? 2 : 1;
    stderr.write(`prodo-auth-mock: ${(error as Error).message}\n`);
    return code;
  }

  const stop = io.signal ?? signalFromProcess();
  stdout.write(json ? `${JSON.stringify(describe(server))}\n` : banner(server));
  io.onListening?.(server);
  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    else stop.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  if (!json) stdout.write('prodo-auth-mock: stopped\n');
  return 0;
}

function parseCliArgs(argv: readonly string[]): 'help' | { options: MockServerOptions; json: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      vendor: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'access-token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
      latency: { type: 'string' },
      consent: { type: 'boolean' },
      'single-quoted': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.vendor === undefined) throw new Error('--vendor is required');
  if (!(VENDORS as readonly string[]).includes(values.vendor)) throw new Error(`--vendor must be one of ${VENDORS.join(', ')}`);
  const options: MockServerOptions = {
    vendor: values.vendor as Vendor,
    port: integer('--port', values.port),
    host: values.host,
    accessTokenTtlSeconds: integer('--access-token-ttl', values['access-token-ttl']),
    refreshTokenTtlSeconds: integer('--refresh-token-ttl', values['refresh-token-ttl']),
    faults: values.latency === undefined ? undefined : { latencyMs: integer('--latency', values.latency) },
    requireConsent: values.consent,
    singleQuotedTokenResponse: values['single-quoted'],
  };
  return { options, json: values.json ?? false };
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${flag} must be a whole number, not '${value}'`);
  return Number(value);
}

function signalFromProcess(): AbortSignal {
  const controller = new AbortController();
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return controller.signal;
}

/**
 * The `PRODO_AUTH_*` variables that point `configFromEnv()` at this server: exactly the ones it
 * reads for the vendor's preset and default grant, and nothing it would ignore. (Procurios'
 * authorize URL is for the authorization code grant, which also needs the app's own redirect URI
 * and session secret: the banner shows it apart.)
 */
function envFor(server: MockServer): Record<string, string> {
  const env: Record<string, string> = { PRODO_AUTH_PRESET: server.vendor };
  const c = server.credentials as unknown as Record<string, unknown>;
  switch (server.vendor) {
    case 'prodoscore':
      Object.assign(env, { PRODO_AUTH_TOKEN_URL: server.tokenUrl, PRODO_AUTH_API_URL: server.apiUrl });
      Object.assign(env, { PRODO_AUTH_CLIENT_ID: c.clientId, PRODO_AUTH_USERNAME: c.username, PRODO_AUTH_PASSWORD: c.password });
      break;
    case 'bio-prodict':
      Object.assign(env, { PRODO_AUTH_TOKEN_URL: server.tokenUrl, PRODO_AUTH_API_URL: server.apiUrl });
      Object.assign(env, { PRODO_AUTH_CLIENT_ID: c.clientId, PRODO_AUTH_CLIENT_SECRET: c.clientSecret });
      Object.assign(env, { PRODO_AUTH_USERNAME: c.username, PRODO_AUTH_PASSWORD: c.password });
      break;
    case 'procurios':
      Object.assign(env, { PRODO_AUTH_GRANT: 'client_credentials', PRODO_AUTH_TOKEN_URL: server.tokenUrl, PRODO_AUTH_API_URL: server.apiUrl });
      Object.assign(env, { PRODO_AUTH_CLIENT_ID: c.clientId, PRODO_AUTH_CLIENT_SECRET: c.clientSecret, PRODO_AUTH_SCOPE: c.scope });
      break;
    case 'petrosoft':
      Object.assign(env, { PRODO_AUTH_BASE_URL: server.url, PRODO_AUTH_API_URL: server.apiUrl });
      Object.assign(env, { PRODO_AUTH_USERNAME: c.login, PRODO_AUTH_PASSWORD: c.password });
      break;
  }
  return env;
}

function describe(server: MockServer): Record<string, unknown> {
  return {
    vendor: server.vendor,
    url: server.url,
    tokenUrl: server.tokenUrl,
    refreshUrl: server.refreshUrl,
    authorizeUrl: server.authorizeUrl,
    apiUrl: server.apiUrl,
    credentials: server.credentials,
    env: envFor(server),
  };
}

function banner(server: MockServer): string {
  const lines = [`prodo-auth-mock: ${server.vendor} listening on ${server.url}`, ''];
  const urls: [string, string | undefined][] = [
    ['token', server.tokenUrl],
    ['refresh', server.refreshUrl],
    ['authorize', server.authorizeUrl],
    ['api', server.apiUrl],
  ];
  for (const [name, url] of urls) if (url !== undefined) lines.push(`  ${name.padEnd(10)} ${url}`);
  lines.push('', 'Credentials:');
  for (const [key, value] of flatten(server.credentials as unknown as Record<string, unknown>)) {
    lines.push(`  ${key.padEnd(28)} ${value}`);
  }
  lines.push('', 'Environment for configFromEnv():');
  for (const [key, value] of Object.entries(envFor(server))) lines.push(`  ${key}=${shellQuote(value)}`);
  if (server.vendor === 'bio-prodict') lines.push('', `Two-factor codes: POST ${server.url}/__mock/two-factor-code`);
  if (server.vendor === 'procurios') {
    lines.push('', 'For the authorization code grant (user login) instead:');
    lines.push('  PRODO_AUTH_GRANT=authorization_code', `  PRODO_AUTH_AUTHORIZE_URL=${shellQuote(server.authorizeUrl ?? '')}`);
    lines.push('  PRODO_AUTH_REDIRECT_URI=<your callback, e.g. http://localhost:3000/auth/callback>');
    lines.push('  PRODO_AUTH_SESSION_SECRET=<32 or more random characters>');
  }
  lines.push('', 'Press Ctrl+C to stop.', '');
  return lines.join('\n');
}

function flatten(value: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(value).flatMap(([key, v]): [string, string][] =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? flatten(v as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, Array.isArray(v) ? v.join(' ') : String(v)]],
  );
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
