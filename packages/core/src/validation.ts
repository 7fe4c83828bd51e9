/** Option validation shared by every factory: zod schemas, and issues that name fields, never values. */
import { z } from 'zod';
import { CLIENT_AUTH_METHODS } from './client-auth.js';
import { ConfigError, type ConfigIssue } from './errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for http(s) URLs on this machine, where plain http cannot be intercepted. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** An absolute http(s) URL; plain http only on loopback unless insecure requests are allowed. */
export const urlString: z.ZodType<string, string> = z.string().refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), {
  message: 'must be an absolute http(s) URL',
});

/** `scope` as a space-separated string or an array, normalised to a string. */
export const scopeField: z.ZodOptional<z.ZodType<string, string | string[]>> = z
  .union([z.string(), z.array(z.string().min(1))])
  .transform((s) => (Array.isArray(s) ? s.join(' ') : s.trim()))
  .optional();

const clientAuthValue = z.custom<object>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { apply?: unknown }).apply === 'function',
  { message: 'must be a client authentication value' },
);

export const clientFields: {
  clientId: z.ZodString;
  clientSecret: z.ZodOptional<z.ZodString>;
  clientAuth: z.ZodOptional<z.ZodType<string | object>>;
} = {
  clientId: z.string().min(1, 'is required'),
  clientSecret: z.string().min(1, 'must not be empty').optional(),
  clientAuth: z.union([z.enum(CLIENT_AUTH_METHODS as [string, ...string[]]), clientAuthValue]).optional(),
};

export const insecureField: { dangerouslyAllowInsecureHttp: z.ZodOptional<z.ZodBoolean> } = {
  /**
   * Allow plain `http:` token endpoints off loopback. Tokens and secrets then cross the network
   * in clear text: only for tests behind a trusted network.
   */
  dangerouslyAllowInsecureHttp: z.boolean().optional(),
};

/** Issues for Basic/post methods without a secret and for plain-http endpoints off loopback. */
export function checkClientAndUrls(
  value: {
    clientSecret?: string | undefined;
    clientAuth?: unknown;
    dangerouslyAllowInsecureHttp?: boolean | undefined;
  } & Record<string, unknown>,
  urlKeys: readonly string[],
  ctx: z.RefinementCtx,
): void {
  const method = value.clientAuth;
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && value.clientSecret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `is required with clientAuth '${method}'` });
  }
  if (value.dangerouslyAllowInsecureHttp) return;
  for (const key of urlKeys) {
    const raw = value[key];
    if (typeof raw !== 'string' || !URL.canParse(raw)) continue;
    const url = new URL(raw);
    if (url.protocol === 'http:' && !isLoopback(url)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'must use https (plain http is accepted on loopback only; see dangerouslyAllowInsecureHttp)',
      });
    }
  }
}

/** Converts zod issues into ConfigIssues. zod's messages name types, never the input values. */
export function toConfigIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.map((issue) => ({
    path: `${prefix}${issue.path.map(String).join('.')}` || '(options)',
    message: issue.message.replace(/^Invalid input: /, ''),
  }));
}

/** Parses options at construction, throwing one ConfigError that names every bad field. */
export function parseOptions<TSchema extends z.ZodType>(schema: TSchema, input: unknown, where: string): z.output<TSchema> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ConfigError(`Invalid ${where} options`, toConfigIssues(result.error));
  return result.data;
}
