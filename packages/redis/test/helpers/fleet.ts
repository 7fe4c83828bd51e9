/** Real child processes, each one instance of the fleet (test/fixtures/fleet-worker.mjs). */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../fixtures/fleet-worker.mjs', import.meta.url));

export interface CallResult {
  ok: boolean;
  code?: string;
  ms: number;
  token?: string;
}

export interface Worker {
  process: ChildProcess;
  burst(callers: number): Promise<{ results: CallResult[]; storeErrors: string[] }>;
  load(ms: number, lanes: number, everyMs: number): Promise<{ results: CallResult[]; storeErrors: string[] }>;
  /** Caches (and stores) tokens obtained elsewhere, as a login's code exchange does. */
  setTokens(accessToken: string, refreshToken: string, expiresInMs: number): Promise<void>;
  /** The next acquisition holds the lock and hangs there (to be killed). */
  hangInLock(): Promise<void>;
  /** Resolves when this worker holds the lock and hangs. */
  holding: Promise<void>;
  close(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

let nextId = 0;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = fork(WORKER, [], { env: { ...process.env, ...env }, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const ask = <T>(message: Record<string, unknown>, ms = 60_000): Promise<T> => {
    const id = ++nextId;
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        const on = (m: { id?: number } & T): void => {
          if (m.id !== id) return;
          child.off('message', on);
          resolve(m);
        };
        child.on('message', on);
        child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal})`)));
        child.send({ ...message, id });
      }),
      ms,
      String(message.type),
    );
  };
  const holding = new Promise<void>((resolve) => child.on('message', (m: { type?: string }) => m.type === 'holding' && resolve()));
  holding.catch(() => undefined);
  await withTimeout(new Promise<void>((resolve) => child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve())), 20_000, 'worker ready');
  return {
    process: child,
    burst: (callers) => ask({ type: 'burst', callers }),
    load: (ms, lanes, everyMs) => ask({ type: 'load', ms, lanes, everyMs }, ms + 60_000),
    hangInLock: () => ask({ type: 'hang-in-lock' }),
    setTokens: (accessToken, refreshToken, expiresInMs) => ask({ type: 'set-tokens', accessToken, refreshToken, expiresInMs }),
    holding,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await ask({ type: 'close' }, 10_000).catch(() => child.kill('SIGKILL'));
    },
    kill: (signal) => child.kill(signal),
  };
}
