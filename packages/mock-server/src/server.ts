/** `startMockServer()`: one vendor simulation on a loopback `node:http` server. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Faults, type FaultControl } from './faults.js';
import { jsonReply, MAX_BODY_BYTES, parseRequestBody, type MockReply, type MockRequest } from './http.js';
import { resolveOptions, type MockServerOptions, type Vendor } from './options.js';
import { JwtSigner, TokenRegistry } from './tokens.js';
import { bioProdict, type BioProdictCredentials } from './vendors/bio-prodict.js';
import { petrosoft, type PetrosoftCredentials } from './vendors/petrosoft.js';
import { procurios, type ProcuriosCredentials } from './vendors/procurios.js';
import { prodoscore, type ProdoscoreCredentials } from './vendors/prodoscore.js';
import { GRANT_LABELS, type GrantLabel, type VendorContext, type VendorSim } from './vendors/vendor.js';

/** The credentials each vendor simulation accepts, so tests and demos can log in. */
export interface VendorCredentials {
  prodoscore: ProdoscoreCredentials;
  'bio-prodict': BioProdictCredentials;
  procurios: ProcuriosCredentials;
  petrosoft: PetrosoftCredentials;
}

/** What a mock server has seen since it started (or since `resetStats()`). */
export interface MockServerStats {
  /** Requests to the token endpoint (Petrosoft: the login and refresh endpoints), whatever their outcome. */
  tokenRequests: number;
  /** Token requests by grant: Procurios' `grant_type=code` counts as `authorization_code`, Petrosoft's login as `password`. */
  byGrant: Record<GrantLabel, number>;
  /** Token requests the vendor logic refused (4xx or 5xx), injected faults not included. */
  tokenRejections: number;
  /** Requests to the authorize endpoint (Procurios). */
  authorizeRequests: number;
  /** Requests to the protected API. */
  apiRequests: number;
  /** API requests refused: no live token (401), or for Procurios a wrong media type (406). */
  apiRejections: number;
  /** Requests that an injected fault answered, dropped or lost. */
  faultsInjected: number;
}

/** A running vendor simulation. */
export interface MockServer<TVendor extends Vendor = Vendor> {
  readonly vendor: TVendor;
  /** The server's origin, for example `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The token endpoint (Petrosoft: the login endpoint). */
  readonly tokenUrl: string;
  /** The base URL of the protected sample API. */
  readonly apiUrl: string;
  /** Petrosoft's separate refresh endpoint; the others refresh at `tokenUrl`. */
  readonly refreshUrl: string | undefined;
  /** Procurios' authorize endpoint. */
  readonly authorizeUrl: string | undefined;
  /** The clients and users the server accepts. */
  readonly credentials: VendorCredentials[TVendor];
  /** A snapshot of the counters. */
  readonly stats: MockServerStats;
  resetStats(): void;
  /** Fault injection, changeable while the server runs. */
  readonly faults: FaultControl;
  /** Makes a token the server issued unusable (an access token at the API, a refresh token at refresh). Returns false for a token it never issued. */
  revoke(token: string): boolean;
  /** A live access token for the default user, as if copied from a browser session (Prodoscore's "Browser Token"). */
  issueAccessToken(): Promise<string>;
  /** Bio-Prodict: a fresh two-factor code, valid once. Throws for the other vendors. */
  nextTwoFactorCode(): string;
  /** Stops listening and ends every connection and pending answer. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const SIMULATIONS: { [K in Vendor]: (ctx: VendorContext) => VendorSim<VendorCredentials[K]> } = {
  prodoscore,
  'bio-prodict': bioProdict,
  procurios,
  petrosoft,
};

const CONTROL_PREFIX = '/__mock/';

function emptyStats(): MockServerStats {
  return {
    tokenRequests: 0,
    byGrant: Object.fromEntries(GRANT_LABELS.map((g) => [g, 0])) as Record<GrantLabel, number>,
    tokenRejections: 0,
    authorizeRequests: 0,
    apiRequests: 0,
    apiRejections: 0,
    faultsInjected: 0,
  };
}

/**
 * Starts a simulated vendor auth server with a protected sample API on a loopback address.
 *
 * @param options - the vendor, and optionally port, token lifetimes and faults
 * @returns the running server; `close()` it when done
 * @example
 * const server = await startMockServer({ vendor: 'prodoscore' });
 * const { clientId, username, password } = server.credentials;
 * const res = await fetch(server.tokenUrl, {
 *   method: 'POST',
 *   body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password }),
 * });
 * const { access_token } = await res.json();
 * await server.close();
 */
export async function startMockServer<TVendor extends Vendor>(options: MockServerOptions<TVendor>): Promise<MockServer<TVendor>> {
  const resolved = resolveOptions(options);
  const faults = new Faults(resolved.faults);
  const tokens = new TokenRegistry();
  const closing = new AbortController();
  let stats = emptyStats();
  let origin = '';
  const sim = SIMULATIONS[resolved.vendor](
    { options: resolved, tokens, jwt: new JwtSigner(), baseUrl: () => origin },
  ) as VendorSim<VendorCredentials[TVendor]>;

  function control(req: MockRequest): MockReply {
    const action = `${req.method} ${req.path.slice(CONTROL_PREFIX.length)}`;
    switch (action) {
      case 'GET stats':
        return jsonReply(200, stats);
      case 'POST faults':
        try {
          faults.set((req.json ?? {}) as Record<string, unknown>);
          return jsonReply(200, faults.current);
        } catch (error) {
          return jsonReply(400, { error: 'invalid_faults', error_description: (error as Error).message });
        }
      case 'DELETE faults':
        faults.reset();
        return jsonReply(200, faults.current);
      case 'POST revoke': {
        const token = (req.json as { token?: unknown } | undefined)?.token;
        return jsonReply(200, { revoked: typeof token === 'string' && tokens.revoke(token) });
      }
      case 'POST two-factor-code':
        if (sim.nextTwoFactorCode !== undefined) return jsonReply(200, { code: sim.nextTwoFactorCode() });
        break;
    }
    return jsonReply(404, { error: 'not_found' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock');
    const method = req.method ?? 'GET';
    const isControl = url.pathname.startsWith(CONTROL_PREFIX);
    if (!isControl && faults.take('dropConnections')) {
      stats.faultsInjected++;
      req.socket.destroy();
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      await write(res, jsonReply(413, { error: 'payload_too_large' }, { connection: 'close' }), 0);
      return;
    }
    const request: MockRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      ...parseRequestBody(body, req.headers['content-type']),
    };
    if (isControl) {
      await write(res, control(request), 0);
      return;
    }

    const route = sim.route(method, url.pathname);
    if (route?.kind === 'token') {
      stats.tokenRequests++;
      stats.byGrant[route.grant?.(request) ?? 'other']++;
    } else if (route?.kind === 'api') {
      stats.apiRequests++;
    } else if (route?.kind === 'authorize') {
      stats.authorizeRequests++;
    }
    const { latencyMs, slowBodyMs } = faults.current;
    if (latencyMs > 0) await delay(latencyMs, undefined, { signal: closing.signal });

    let reply: MockReply;
    if (route?.kind === 'token' && faults.take('failTokenRequests')) {
      stats.faultsInjected++;
      reply = jsonReply(503, { error: 'temporarily_unavailable', error_description: 'Injected fault: the token endpoint is unavailable' });
    } else {
      reply = route === undefined ? sim.notFound(request) : await route.handle(request);
      if (reply.status >= 400 && route?.kind === 'token') stats.tokenRejections++;
      if (reply.status >= 400 && route?.kind === 'api') stats.apiRejections++;
      if (route?.kind === 'token' && faults.take('loseTokenResponses')) {
        // The request took effect; the client never learns how.
        stats.faultsInjected++;
        req.socket.destroy();
        return;
      }
    }
    await write(res, reply, slowBodyMs);
  }

  /** Writes a reply; with `slowBodyMs`, the body drips out in ten pieces over that time. */
  async function write(res: ServerResponse, reply: MockReply, slowBodyMs: number): Promise<void> {
    const body = Buffer.from(reply.body, 'utf8');
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
    if (slowBodyMs <= 0 || body.length === 0) {
      res.end(body);
      return;
    }
    const pieces = Math.min(10, body.length);
    const size = Math.ceil(body.length / pieces);
    for (let offset = 0; offset < body.length; offset += size) {
      await delay(slowBodyMs / pieces, undefined, { signal: closing.signal });
      res.write(body.subarray(offset, offset + size));
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Closing aborts pending delays; anything else is a bug in the simulation, answered as a 500.
      if (closing.signal.aborted || res.headersSent) {
        res.destroy();
        return;
      }
      const reply = jsonReply(500, { error: 'mock_server_error', error_description: String(error) });
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
  });
  // Bounded in time: a client that stalls mid-request is cut off.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing.abort();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };

  const { paths } = sim;
  return {
    vendor: resolved.vendor as TVendor,
    url: origin,
    tokenUrl: origin + paths.token,
    apiUrl: origin + paths.api,
    refreshUrl: paths.refresh === undefined ? undefined : origin + paths.refresh,
    authorizeUrl: paths.authorize === undefined ? undefined : origin + paths.authorize,
    credentials: sim.credentials,
    get stats() {
      return { ...stats, byGrant: { ...stats.byGrant } };
    },
    resetStats() {
      stats = emptyStats();
    },
    faults,
    revoke: (token) => tokens.revoke(token),
    issueAccessToken: () => sim.issueAccessToken(),
    nextTwoFactorCode() {
      if (sim.nextTwoFactorCode === undefined) {
        throw new TypeError(`nextTwoFactorCode() is for vendor 'bio-prodict'; this server simulates '${resolved.vendor}'`);
      }
      return sim.nextTwoFactorCode();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The request body, or undefined when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
