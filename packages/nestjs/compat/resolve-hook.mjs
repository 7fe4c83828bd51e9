// `node --import=<this file>`: in a process a compat test starts (PRODO_AUTH_COMPAT_ROOT set),
// the shared packages resolve from the compat package, whoever imports them.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

if (process.env.PRODO_AUTH_COMPAT_ROOT !== undefined) {
  register('./resolve-hooks.mjs', import.meta.url, { data: { parentURL: pathToFileURL(`${process.env.PRODO_AUTH_COMPAT_ROOT}/package.json`).href } });
}
