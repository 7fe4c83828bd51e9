/** Fault injection: slow answers, failing token requests, dropped connections, lost answers. */
import { z } from 'zod';

/** Faults to inject. Counts are used up one request at a time; every value is bounded. */
export interface FaultOptions {
  /**
   * Delay before every answer, in milliseconds (at most 60000).
   * @default 0
   */
  latencyMs?: number | undefined;
  /**
   * The next N token requests answer `503` with a JSON body, without being processed.
   * @default 0
   */
  failTokenRequests?: number | undefined;
  /**
   * The next N requests to any endpoint are dropped: the socket is destroyed before anything is
   * processed or answered.
   * @default 0
   */
  dropConnections?: number | undefined;
  /**
   * The next N token requests are processed (a code or a refresh token is spent, new tokens are
   * issued) but the socket is destroyed instead of answering: the unclear outcome a client must
   * not resolve by sending a single-use credential again.
   * @default 0
   */
  loseTokenResponses?: number | undefined;
  /**
   * Drip every answer's body over this many milliseconds (at most 60000).
   * @default 0
   */
  slowBodyMs?: number | undefined;
}

/** Runtime control of the faults of a running server. */
export interface FaultControl {
  /** Merges the given faults into the active ones; a count replaces what is left of it. */
  set(faults: FaultOptions): void;
  /** Turns every fault off. */
  reset(): void;
  /** The active faults, with what is left of each count. */
  readonly current: Readonly<Required<FaultOptions>>;
}

const MAX_MS = 60_000;
const MAX_COUNT = 10_000;
const ms = z.number().int().min(0).max(MAX_MS).optional();
const count = z.number().int().min(0).max(MAX_COUNT).optional();

export const faultSchema: z.ZodType<FaultOptions> = z.strictObject({
  latencyMs: ms,
  failTokenRequests: count,
  dropConnections: count,
  loseTokenResponses: count,
  slowBodyMs: ms,
});

type Counter = 'failTokenRequests' | 'dropConnections' | 'loseTokenResponses';

const NONE: Required<FaultOptions> = {
  latencyMs: 0,
  failTokenRequests: 0,
  dropConnections: 0,
  loseTokenResponses: 0,
  slowBodyMs: 0,
};

export class Faults implements FaultControl {
  #state: Required<FaultOptions> = { ...NONE };

  constructor(initial: FaultOptions = {}) {
    this.set(initial);
  }

  set(faults: FaultOptions): void {
    const parsed = faultSchema.safeParse(faults);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'faults'} ${i.message}`);
      throw new TypeError(`mock-server faults: ${issues.join('; ')}`);
    }
    const defined = Object.entries(parsed.data).filter(([, v]) => v !== undefined);
    this.#state = { ...this.#state, ...Object.fromEntries(defined) };
  }

  reset(): void {
    this.#state = { ...NONE };
  }

  get current(): Readonly<Required<FaultOptions>> {
    return { ...this.#state };
  }

  /** Uses up one of a counted fault; true when this request gets it. */
  take(counter: Counter): boolean {
    if (this.#state[counter] <= 0) return false;
    this.#state[counter]--;
    return true;
  }
}
