// The module-resolution hooks registered by resolve-hook.mjs (they run off the main thread).
import { SHARED } from './shared-deps.mjs';

let parentURL;
export function initialize(data) {
  parentURL = data.parentURL;
}

export function resolve(specifier, context, next) {
  const shared = SHARED.some((name) => specifier === name || specifier.startsWith(`${name}/`));
  return next(specifier, shared ? { ...context, parentURL } : context);
}
