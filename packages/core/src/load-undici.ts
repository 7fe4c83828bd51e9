/**
 * undici, loaded on first use: most of a cold start was spent loading it at import, before any
 * request needed it. Type imports of undici stay free.
 */
import type * as Undici from 'undici';

let undiciModule: Promise<typeof Undici> | undefined;

/** The undici module, imported once. @internal */
export function loadUndici(): Promise<typeof Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}
