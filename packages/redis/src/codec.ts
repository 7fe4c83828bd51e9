/**
 * How values are written to Redis: JSON, or AES-256-GCM records when an encryption key is given.
 * A record names the id of the key that sealed it (keys rotate: encrypt with the first, decrypt
 * with any) and is bound to its Redis key as additional authenticated data, so a record copied to
 * another key fails to open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '@prodo-auth/core';

/** One key: 32 bytes, as bytes, base64 (or base64url), or 64 hex digits. */
export type EncryptionKeyInput = string | Uint8Array;

/** A key with the id stored beside each record it seals. */
export interface EncryptionKeyEntry {
  /** Letters, digits, `_` and `-`, at most 64: it is written in clear into every record. */
  id: string;
  key: EncryptionKeyInput;
}

/**
 * One key (its id is `default`), or a list: the first encrypts, any decrypts. To rotate, put the
 * new key first and keep the old one until its records have expired.
 */
export type EncryptionKeyOption = EncryptionKeyInput | readonly EncryptionKeyEntry[];

/** Reading a record failed: tampered, moved to another key, or sealed with a key not configured. */
export class UnreadableRecord extends Error {
  override readonly name = 'UnreadableRecord';
}

export interface Codec {
  encode(redisKey: string, json: string): string;
  /** @throws UnreadableRecord */
  decode(redisKey: string, stored: string): string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function keyBytes(input: unknown, path: string): Buffer {
  let bytes: Buffer | undefined;
  if (input instanceof Uint8Array) bytes = Buffer.from(input);
  else if (typeof input === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(input)) bytes = Buffer.from(input, 'hex');
    else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(input)) bytes = Buffer.from(input, 'base64');
  }
  if (bytes?.length !== 32) {
    throw new ConfigError(
      `${path} must be a 32-byte key for AES-256-GCM: 32 bytes, 44 characters of base64 or 64 hex digits ` +
        "(make one with `node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"`)",
    );
  }
  return bytes;
}

/**
 * @throws ConfigError naming the bad key (never its value)
 */
export function makeCodec(option: unknown): Codec {
  if (option === undefined) {
    return {
      encode: (_k, json) => `j${json}`,
      decode(_k, stored) {
        if (stored.startsWith('j')) return stored.slice(1);
        throw new UnreadableRecord(
          stored.startsWith('e') ? 'the record is encrypted and no encryptionKey is configured' : 'the record is not one this store wrote',
        );
      },
    };
  }
  const list: { id: string; key: Buffer }[] = [];
  if (Array.isArray(option)) {
    if (option.length === 0) throw new ConfigError('encryptionKey must hold at least one { id, key } (the first encrypts)');
    option.forEach((entry: unknown, i) => {
      const e = entry as Partial<EncryptionKeyEntry> | null;
      if (typeof e?.id !== 'string' || !ID.test(e.id)) {
        throw new ConfigError(`encryptionKey[${i}].id must be 1 to 64 letters, digits, '_' or '-'`);
      }
      if (list.some((k) => k.id === e.id)) throw new ConfigError(`encryptionKey[${i}].id '${e.id}' is used twice`);
      list.push({ id: e.id, key: keyBytes(e.key, `encryptionKey[${i}].key`) });
    });
  } else {
    list.push({ id: 'default', key: keyBytes(option, 'encryptionKey') });
  }
  const current = list[0]!;
  return {
    encode(redisKey, json) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(redisKey));
      const ciphertext = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `e${current.id}.${iv.toString('base64url')}.${tag.toString('base64url')}.${ciphertext.toString('base64url')}`;
    },
    decode(redisKey, stored) {
      if (!stored.startsWith('e')) throw new UnreadableRecord('the record is not encrypted, and an encryptionKey is configured');
      const [id, iv, tag, ciphertext] = stored.slice(1).split('.');
      const key = list.find((k) => k.id === id)?.key;
      if (key === undefined) throw new UnreadableRecord(`the record was encrypted with key id '${String(id).slice(0, 64)}', which is not in encryptionKey`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
        decipher.setAAD(Buffer.from(redisKey));
        decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext ?? '', 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new UnreadableRecord(`the record failed authentication with key id '${id}': it was changed, or copied from another key`);
      }
    },
  };
}

/** Key names never hold a client id, user name or session id in clear: a hash of the caller's key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}
