/** Validation of `createTokenClient` options, at construction. */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { Grant } from './grant.js';
import type { TokenStore } from './store.js';
import type { TokenClientOptions } from './token-client.js';
import { checkClientAndUrls, parseOptions, urlString } from './validation.js';

const optionsSchema = z
  .object({
    grant: z.custom<Grant>(
      (g) => typeof g === 'object' && g !== null && typeof (g as Grant).obtain === 'function',
      'must be a grant, e.g. passwordGrant({...})',
    ),
    apiUrl: urlString.optional(),
    apiHeaders: z.record(z.string(), z.string()).optional(),
    store: z
      .custom<TokenStore>(
        (s) =>
          typeof s === 'object' &&
          s !== null &&
          ['get', 'set', 'delete'].every((m) => typeof (s as Record<string, unknown>)[m] === 'function'),
        'must implement get, set and delete',
      )
      .optional(),
    storeKey: z.string().min(1).optional(),
    refreshSkewSeconds: z.number().min(0).finite().optional(),
    timeoutMs: z.number().int().positive().optional(),
    dispatcher: z.custom<Dispatcher>((d) => typeof d === 'object' && d !== null, 'must be an undici Dispatcher').optional(),
    maxResponseBytes: z.number().int().positive().optional(),
    retry: z
      .object({
        retries: z.number().int().min(0).max(10).optional(),
        minDelayMs: z.number().min(0).optional(),
        maxDelayMs: z.number().min(0).optional(),
      })
      .optional(),
    dangerouslyAllowInsecureHttp: z.boolean().optional(),
  })
  .superRefine((v, ctx) => checkClientAndUrls(v, ['apiUrl'], ctx));

/** Parses `createTokenClient` options, throwing one ConfigError that names every bad field. */
export function parseTokenClientOptions(options: TokenClientOptions): TokenClientOptions {
  return parseOptions(optionsSchema, options, 'createTokenClient');
}
