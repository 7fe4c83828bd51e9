/**
 * jose, loaded on first use like undici: only a client that signs a client assertion needs it,
 * and importing it at start would cost every other process its load time.
 */
import type * as Jose from 'jose';

let joseModule: Promise<typeof Jose> | undefined;

/** The jose module, imported once. @internal */
export function loadJose(): Promise<typeof Jose> {
  joseModule ??= import('jose');
  return joseModule;
}
