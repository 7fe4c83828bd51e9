/**
 * The few parts of `oidc-provider` (which ships no types) that the interoperability tests use.
 * Named apart from `oidc-provider.ts`: TypeScript ignores a `.d.ts` that shares a `.ts` file's name.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Configuration = Record<string, unknown>;

  /** The parts of the Koa context the tests read. */
  export interface ProviderContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    get(field: string): string;
    oidc?: {
      /** The parsed request body. */
      body?: Record<string, unknown>;
      client?: { clientId: string; clientAuthMethod: string };
    };
  }

  export interface Interaction {
    uid: string;
    params: Record<string, unknown>;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    grantId?: string;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  /** An access token or client credentials token as the provider stores it. */
  export interface StoredToken {
    clientId: string;
    accountId?: string;
    scope?: string;
    grantId?: string;
    isExpired: boolean;
  }

  export interface StoredRefreshToken extends StoredToken {
    consumed?: number;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): this;
    on(event: string, listener: (...args: never[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    readonly Grant: {
      new (init: { accountId: string; clientId: string }): GrantInstance;
      find(id: string): Promise<GrantInstance | undefined>;
    };
    readonly AccessToken: { find(value: string): Promise<StoredToken | undefined> };
    readonly ClientCredentials: {
      new (init: { client: unknown; scope?: string }): { expiresIn: number; save(): Promise<string> };
      find(value: string): Promise<StoredToken | undefined>;
    };
    /** Adds a grant type handler (token exchange in the tests). */
    registerGrantType(
      name: string,
      handler: (ctx: never, next: () => Promise<void>) => Promise<void>,
      params?: string | string[],
      dupes?: string | string[],
    ): void;
    readonly RefreshToken: { find(value: string, options?: { ignoreExpiration?: boolean }): Promise<StoredRefreshToken | undefined> };
  }
}
