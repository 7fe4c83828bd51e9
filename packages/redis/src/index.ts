/**
 * @prodo-auth/redis: a Redis TokenStore and SessionStore, so that a fleet of processes makes one
 * token request per expiry between them and shares user sessions, with node-redis or ioredis.
 * @packageDocumentation
 */
export type { EncryptionKeyEntry, EncryptionKeyInput, EncryptionKeyOption } from './codec.js';
export { redisSessionStore, type RedisSessionStore, type RedisSessionStoreOptions } from './session-store.js';
export { redisTokenStore, type RedisTokenStore, type RedisTokenStoreOptions } from './token-store.js';
