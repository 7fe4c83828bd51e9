/**
 * Reads a .tgz as npm and pnpm write them (ustar, with pax headers for long names), so the checks
 * look at exactly the bytes a user downloads.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  /** The path inside the package, without npm's leading `package/`. */
  path: string;
  size: number;
  mode: number;
  data: Buffer;
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const text = field(block, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The regular files of a gzipped tarball. */
export function readTarball(file: string): TarEntry[] {
  return parseTar(gunzipSync(readFileSync(file)));
}

export function parseTar(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      // A pax header: "<len> path=<value>\n" records; only the path matters here.
      const match = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      paxPath = match?.[1];
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(header, 345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    paxPath = undefined;
    if (type !== '0' && type !== '\0') continue;
    entries.push({ path: name.replace(/^package\//, ''), size, mode: octal(header, 100, 8), data });
  }
  return entries;
}
