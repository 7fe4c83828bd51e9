/** The four clients every suite runs against: node-redis 6 and 5, ioredis 6 and 5. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface ClientKind {
  name: string;
  /** A connected client of this kind for a standalone server. */
  connect(url: string): Promise<{ client: unknown; close(): Promise<void> }>;
  /** A connected cluster client of this kind. */
  connectCluster(ports: number[]): Promise<{ client: unknown; close(): Promise<void> }>;
}

type NodeRedisModule = {
  createClient(o: object): { connect(): Promise<unknown>; on(e: string, f: () => void): unknown; destroy(): void };
  createCluster(o: object): { connect(): Promise<unknown>; on(e: string, f: () => void): unknown; destroy(): void };
};
type IoModule = {
  Redis: new (url: string, o?: object) => { disconnect(): void; on(e: string, f: () => void): unknown; ping(): Promise<string> };
  Cluster: new (nodes: object[], o?: object) => { disconnect(): void; on(e: string, f: () => void): unknown; ping(): Promise<string> };
};

const nodeRedis = (name: string, pkg: string): ClientKind => ({
  name,
  async connect(url) {
    const m = require(pkg) as NodeRedisModule;
    const client = m.createClient({ url });
    client.on('error', () => undefined);
    await client.connect();
    return { client, close: () => Promise.resolve(client.destroy()) };
  },
  async connectCluster(ports) {
    const m = require(pkg) as NodeRedisModule;
    const client = m.createCluster({ rootNodes: ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })) });
    client.on('error', () => undefined);
    await client.connect();
    return { client, close: () => Promise.resolve(client.destroy()) };
  },
});

const ioRedis = (name: string, pkg: string): ClientKind => ({
  name,
  async connect(url) {
    const m = require(pkg) as IoModule;
    const client = new m.Redis(url);
    client.on('error', () => undefined);
    await client.ping();
    return { client, close: () => Promise.resolve(client.disconnect()) };
  },
  async connectCluster(ports) {
    const m = require(pkg) as IoModule;
    const client = new m.Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
    client.on('error', () => undefined);
    await client.ping();
    return { client, close: () => Promise.resolve(client.disconnect()) };
  },
});

export const CLIENT_KINDS: ClientKind[] = [
  nodeRedis('node-redis 6', 'redis'),
  nodeRedis('node-redis 5', 'redis-5'),
  ioRedis('ioredis 6', 'ioredis'),
  ioRedis('ioredis 5', 'ioredis-5'),
];
