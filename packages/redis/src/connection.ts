/**
 * The one place that knows node-redis from ioredis. Both are told apart by shape, never imported
 * as values (they are optional peers: an app installs one of them), and the store talks to Redis
 * through its own duplicates of the client it was given, opened here with no offline queue and
 * fast reconnects, so a store command never waits in the app's queue or behind its timeouts.
 */
import { ConfigError, ErrorCode, ProdoAuthError } from '@prodo-auth/core';

/** The store's view of a Redis connection: raw commands, one pub/sub channel, and close. */
export interface Connection {
  readonly kind: 'node-redis' | 'ioredis';
  readonly cluster: boolean;
  /** Resolves once the command connection is ready (it never rejects; commands fail instead). */
  readonly ready: Promise<void>;
  /** Sends one command; `key` routes it on a Cluster. Replies are strings, numbers, arrays or null. */
  command(key: string | undefined, args: readonly string[]): Promise<unknown>;
  /**
   * Subscribes a second connection to `channel`. `onListening(true)` once it listens (again, after
   * a reconnect), `onListening(false)` when it lost the connection: notices may be missed then.
   */
  subscribe(channel: string, onMessage: (message: string) => void, onListening: (listening: boolean) => void): void;
  close(): Promise<void>;
}

/** A node-redis client or cluster (v5, v6): only what the store uses, typed by shape. */
interface NodeRedisLike {
  sendCommand(...args: unknown[]): Promise<unknown>;
  duplicate(overrides?: Record<string, unknown>): NodeRedisLike;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  close?: () => Promise<unknown>;
  quit?: () => Promise<unknown>;
  destroy?: () => unknown;
  disconnect?: () => Promise<unknown>;
  readonly options?: Record<string, unknown> | undefined;
  readonly masters?: unknown;
  readonly isOpen?: boolean;
}

/** An ioredis Redis or Cluster (v5, v6), typed by shape. */
interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(...args: unknown[]): IoRedisLike;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  readonly isCluster: boolean;
  readonly status?: string;
  readonly options?: Record<string, unknown> | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isIoRedis(v: unknown): v is IoRedisLike {
  return isObject(v) && typeof v.call === 'function' && typeof v.duplicate === 'function' && typeof v.isCluster === 'boolean';
}

function isNodeRedis(v: unknown): v is NodeRedisLike {
  return (
    isObject(v) &&
    typeof v.sendCommand === 'function' &&
    typeof v.duplicate === 'function' &&
    typeof v.connect === 'function' &&
    typeof v.call !== 'function'
  );
}

/** Reconnect quickly (the store's callers are bounded by their own deadlines) but never spin. */
const backoff = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 4), 500);

/**
 * Opens the store's own connections from `redis`.
 * @throws ConfigError when `redis` is neither a node-redis nor an ioredis client
 */
export function openConnection(redis: unknown, connectTimeoutMs: number): Connection {
  if (isIoRedis(redis)) return ioRedisConnection(redis, connectTimeoutMs);
  if (isNodeRedis(redis)) return nodeRedisConnection(redis, connectTimeoutMs);
  throw new ConfigError(
    'redis must be a node-redis client (createClient() or createCluster() from the redis package, v5 or later) or an ioredis client (new Redis() or new Cluster(), v5 or later)' +
      `, not ${redis === null ? 'null' : typeof redis === 'object' ? 'an object of another shape' : typeof redis}`,
  );
}

function nodeRedisConnection(redis: NodeRedisLike, connectTimeoutMs: number): Connection {
  const cluster = redis.masters !== undefined;
  const socketOf = (o: Record<string, unknown> | undefined): Record<string, unknown> =>
    ({ ...(isObject(o?.socket) ? o.socket : {}), connectTimeout: connectTimeoutMs, reconnectStrategy: backoff });
  const overrides = (): Record<string, unknown> => {
    if (!cluster) return { disableOfflineQueue: true, socket: socketOf(redis.options) };
    const defaults = isObject(redis.options?.defaults) ? redis.options.defaults : {};
    return { defaults: { ...defaults, disableOfflineQueue: true, socket: socketOf(defaults) } };
  };
  const open = (): { client: NodeRedisLike; ready: Promise<void> } => {
    const client = redis.duplicate(overrides());
    // An 'error' listener is required (node-redis emits every socket error); failures reach callers as command errors.
    client.on('error', () => undefined);
    const ready = retryConnect(client);
    return { client, ready };
  };
  let closed = false;
  let sub: ReturnType<typeof open> | undefined;
  /**
   * connect() may reject when the first attempt fails (Redis down at start): try again until it
   * connects or the store is closed. Once connected, the client reconnects by itself.
   */
  function retryConnect(client: NodeRedisLike): Promise<void> {
    return new Promise((resolve) => {
      let attempt = 0;
      const tryOnce = (): void => {
        if (closed) return resolve();
        // Still connecting (node-redis retries by itself): wait for it rather than call connect() twice.
        const connecting = client.isOpen === true ? new Promise((r) => client.on('ready', r)) : client.connect();
        connecting.then(
          () => resolve(),
          () => void setTimeout(tryOnce, backoff(attempt++)).unref(),
        );
      };
      tryOnce();
    });
  }
  const main = open();
  return {
    kind: 'node-redis',
    cluster,
    ready: main.ready,
    command: (key, args) =>
      cluster ? main.client.sendCommand(key, false, [...args]) : main.client.sendCommand([...args]),
    subscribe(channel, onMessage, onListening) {
      const s = (sub = open());
      let subscribed = false;
      // After a reconnect node-redis subscribes again by itself.
      s.client.on('ready', () => subscribed && onListening(true));
      s.client.on('error', () => onListening(false));
      s.client.on('end', () => onListening(false));
      void s.ready
        .then(() => (closed ? undefined : s.client.subscribe(channel, onMessage)))
        .then(() => {
          subscribed = true;
          onListening(true);
        })
        .catch(() => undefined);
    },
    async close() {
      closed = true;
      await Promise.all([main, sub].map((c) => (c === undefined ? undefined : closeNodeRedis(c.client))));
    },
  };
}

async function closeNodeRedis(client: NodeRedisLike): Promise<void> {
  try {
    // v5+ has destroy() (immediate) and close(); a client that never connected throws on quit.
    if (typeof client.destroy === 'function') client.destroy();
    else if (typeof client.disconnect === 'function') await client.disconnect();
  } catch {
    // Already closed.
  }
}

function ioRedisConnection(redis: IoRedisLike, connectTimeoutMs: number): Connection {
  const cluster = redis.isCluster;
  const common = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: connectTimeoutMs,
    retryStrategy: backoff,
    lazyConnect: false,
    autoResubscribe: true,
  };
  const open = (): { client: IoRedisLike; ready: Promise<void> } => {
    const client = cluster
      ? redis.duplicate([], {
          enableOfflineQueue: false,
          clusterRetryStrategy: backoff,
          redisOptions: { ...(isObject(redis.options?.redisOptions) ? redis.options.redisOptions : {}), ...common },
        })
      : redis.duplicate(common);
    client.on('error', () => undefined);
    const ready = new Promise<void>((resolve) => {
      if (client.status === 'ready') resolve();
      client.on('ready', () => resolve());
      client.on('end', () => resolve());
    });
    return { client, ready };
  };
  const main = open();
  let sub: ReturnType<typeof open> | undefined;
  return {
    kind: 'ioredis',
    cluster,
    ready: main.ready,
    command: (_key, args) => main.client.call(args[0]!, ...args.slice(1)),
    subscribe(channel, onMessage, onListening) {
      const s = (sub = open());
      let subscribed = false;
      // After a reconnect ioredis subscribes again by itself (autoResubscribe).
      s.client.on('ready', () => subscribed && onListening(true));
      s.client.on('close', () => onListening(false));
      s.client.on('message', (ch: unknown, message: unknown) => {
        if (ch === channel && typeof message === 'string') onMessage(message);
      });
      void s.ready
        .then(() => s.client.subscribe(channel))
        .then(() => {
          subscribed = true;
          onListening(true);
        })
        .catch(() => undefined);
    },
    close() {
      for (const c of [main, sub]) c?.client.disconnect();
      return Promise.resolve();
    },
  };
}

/**
 * A store failure as a prodo-auth error. Redis clients put a command's arguments (the serialised
 * tokens) on their errors: the cause is a sanitized copy (name, code, redacted message, frames).
 */
export function storeError(message: string, cause?: unknown): ProdoAuthError {
  return new ProdoAuthError(message, { code: ErrorCode.STORE, cause });
}
