/**
 * Where createAuthorizedFetch and TokenClient#fetch send a request, and which requests get the
 * token: the URL that is checked is the URL that is sent, and a path joins the apiUrl's path.
 * Real servers on 127.0.0.1 that record the raw request target; never a mock fetch.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createAuthorizedFetch, createTokenClient, ErrorCode, staticTokenGrant, type TokenClient } from '../../src/index.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

interface RawServer {
  url: string;
  host: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A server that records each request's raw target (path and query) and answers 200. */
async function rawServer(): Promise<RawServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const TOKEN = 'static-api-token-1234';
let api: RawServer;
let other: RawServer;
const clients: TokenClient[] = [];

function client(apiUrl: string | undefined): TokenClient {
  const c = createTokenClient({ grant: staticTokenGrant({ token: TOKEN }), apiUrl });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  [api, other] = await Promise.all([rawServer(), rawServer()]);
});
beforeEach(() => {
  api.seen.length = 0;
  other.seen.length = 0;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await Promise.all([api.close(), other.close()]);
});

async function drain(res: Response | { text(): Promise<string> }): Promise<void> {
  await res.text();
}

describe('createAuthorizedFetch: the URL checked is the URL sent', () => {
  // Absolute on their own (fetch sends them to the other host), relative against the apiUrl.
  const sameSchemeNoSlashes: Array<[string, (host: string) => string]> = [
    ['http:host/x', (host) => `http:${host}/x`],
    ['http:\\\\host/x (backslashes)', (host) => `http:\\\\${host}/x`],
    ['http:/host/x (one slash)', (host) => `http:/${host}/x`],
    ['http:\\t//host/x (a tab)', (host) => `http:\t//${host}/x`],
    ['http:\\n//host/x (a newline)', (host) => `http:\n//${host}/x`],
    [' http:host/x (leading space)', (host) => ` http:${host}/x`],
  ];

  it.each(sameSchemeNoSlashes)('never sends the token to the host of %s, an absolute URL for fetch', async (_name, make) => {
    const apiFetch = createAuthorizedFetch(client(`${api.url}/api`));
    await drain(await apiFetch(make(other.host)));
    expect(api.seen).toHaveLength(0);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('never sends the token to the host of a network-path input (//host/x or \\\\host\\x)', async () => {
    const apiFetch = createAuthorizedFetch(client(`${api.url}/api`));
    await drain(await apiFetch(`//${other.host}/x`));
    await drain(await apiFetch(`\\\\${other.host}\\y`));
    await drain(await apiFetch(`/\t/${other.host}/z`));
    expect(api.seen).toHaveLength(0);
    expect(other.seen.map((s) => [s.url, s.headers.authorization])).toEqual([
      ['/x', undefined],
      ['/y', undefined],
      ['/z', undefined],
    ]);
  });

  it('gives the token to a network-path input only when it names the API host', async () => {
    const apiFetch = createAuthorizedFetch(client(`${api.url}/api`));
    await drain(await apiFetch(`//${api.host}/direct`));
    expect(api.seen.map((s) => [s.url, s.headers.authorization])).toEqual([['/direct', `Bearer ${TOKEN}`]]);
  });

  it('judges a Request by the URL fetch sends it to, not by an overridden `url` getter', async () => {
    const apiUrl = `${api.url}/api`;
    // A Request whose `url` property lies about where fetch sends it.
    const spoofed = new Request(`${other.url}/x`);
    Object.defineProperty(spoofed, 'url', { value: apiUrl });
    expect(spoofed.url).toBe(apiUrl);
    const apiFetch = createAuthorizedFetch(client(apiUrl));
    await drain(await apiFetch(spoofed));
    expect(api.seen).toHaveLength(0);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('judges a non-Request object by the string fetch makes of it, not by its `url` property', async () => {
    const apiFetch = createAuthorizedFetch(client(`${api.url}/api`));
    const lookalike = { url: `${api.url}/api/x`, toString: (): string => `${other.url}/x` };
    await drain(await apiFetch(lookalike as unknown as Request));
    expect(api.seen).toHaveLength(0);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('sends the URL object as it was when checked, even if the caller changes it while the token is fetched', async () => {
    const apiFetch = createAuthorizedFetch(client(`${api.url}/api`));
    const target = new URL(`${api.url}/api/x`);
    const pending = apiFetch(target);
    target.host = other.host; // before the send: the token lookup is awaited first
    await drain(await pending);
    expect(other.seen).toHaveLength(0);
    expect(api.seen.map((s) => [s.url, s.headers.authorization])).toEqual([['/api/x', `Bearer ${TOKEN}`]]);
  });

  it("with undici's fetch too: an http:host input goes to that host without the token", async () => {
    const apiFetch = createAuthorizedFetch(client(`${api.url}/api`), { fetch: undiciFetch });
    await drain(await apiFetch(`http:${other.host}/x`));
    expect(api.seen).toHaveLength(0);
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
  });
});

/** [input, request target the API receives] for apiUrl `${api}/api` and `${api}/api/`. */
const joins: Array<[string, string]> = [
  ['/users', '/api/users'],
  ['users', '/api/users'],
  ['/users/7?fields=a,b', '/api/users/7?fields=a,b'],
  ['?page=2', '/api/?page=2'],
];

describe.each([
  ['createAuthorizedFetch', (c: TokenClient) => createAuthorizedFetch(c)],
  ['TokenClient#fetch', (c: TokenClient) => c.fetch.bind(c)],
] as const)('%s: a relative input joins the apiUrl path', (_name, fetchOf) => {
  it.each(['/api', '/api/'])('with apiUrl path %s: /users, users, a query and ?page=2 join with one slash', async (path) => {
    const send = fetchOf(client(`${api.url}${path}`)) as (input: string) => Promise<Response>;
    for (const [input] of joins) await drain(await send(input));
    expect(api.seen.map((s) => s.url)).toEqual(joins.map(([, target]) => target));
    expect(api.seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('with an apiUrl at the root, a path is that path', async () => {
    const send = fetchOf(client(api.url)) as (input: string) => Promise<Response>;
    await drain(await send('/users'));
    await drain(await send('users?x=1'));
    expect(api.seen.map((s) => s.url)).toEqual(['/users', '/users?x=1']);
  });

  it('an absolute URL on the API origin stays absolute: not joined', async () => {
    const send = fetchOf(client(`${api.url}/api`)) as (input: string) => Promise<Response>;
    await drain(await send(`${api.url}/elsewhere`));
    expect(api.seen.map((s) => [s.url, s.headers.authorization])).toEqual([['/elsewhere', `Bearer ${TOKEN}`]]);
  });
});

describe('TokenClient#fetch: other origins are refused', () => {
  it.each([
    ['http:host/x', (host: string) => `http:${host}/x`],
    ['//host/x', (host: string) => `//${host}/x`],
    ['http://host/x', (host: string) => `http://${host}/x`],
  ])('refuses %s on another host with a ConfigError, sending nothing', async (_name, make) => {
    const c = client(`${api.url}/api`);
    await expect(c.fetch(make(other.host))).rejects.toMatchObject({ code: ErrorCode.CONFIG });
    await expect(c.fetch(make(other.host))).rejects.toBeInstanceOf(ConfigError);
    expect(other.seen).toHaveLength(0);
    expect(api.seen).toHaveLength(0);
  });

  it('rejects a relative input with a ConfigError when the client has no apiUrl', async () => {
    await expect(client(undefined).fetch('/users')).rejects.toMatchObject({ code: ErrorCode.CONFIG });
  });
});
