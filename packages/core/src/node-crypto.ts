/**
 * node:crypto, loaded on first use. Importing it costs about a third of this package's cold
 * start, and most processes need it only once a grant is made or a login starts.
 */
import type * as Crypto from 'node:crypto';

type NodeCrypto = typeof Crypto;

let loaded: NodeCrypto | undefined;

/** The node:crypto module, synchronously (`process.getBuiltinModule`, Node 20.16 and later). @internal */
export function nodeCrypto(): NodeCrypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}
