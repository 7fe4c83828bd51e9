/**
 * Shutdown: a Nest app using prodo-auth exits by itself after `app.close()`, or on SIGTERM with
 * `enableShutdownHooks()`, every client closed. Runs the built package (dist) in a child process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@prodo-auth/core';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { nestVersion } from './app.js';

const APP = fileURLToPath(new URL('./fixtures/shutdown-app.mjs', import.meta.url));
/** From `ready` (both APIs called) to the process's end: a handle left open keeps it alive past this. */
const EXIT_DEADLINE_MS = 10_000;
/** Loading Nest and calling the APIs, on a busy machine (the whole suite runs beside it on CI). */
const START_DEADLINE_MS = 60_000;
const TEST_TIMEOUT_MS = START_DEADLINE_MS + EXIT_DEADLINE_MS + 5_000;

let mock: MockServer<'procurios'> | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

/** Runs the app; `onReady` once it has called both APIs. Resolves with how it ended, or 'hung'. */
function run(mode: 'close' | 'signal', onReady: (kill: (signal: NodeJS.Signals) => void) => void = () => {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const { clientId, clientSecret, scope } = mock!.credentials;
  const settings = { tokenUrl: mock!.tokenUrl, apiUrl: mock!.apiUrl, clientId, clientSecret, scope, mode };
  const child = spawn(process.execPath, [APP, JSON.stringify(settings)], { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  const deadline = (ms: number, what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(hung: killed ${ms} ms after ${what})`;
    }, ms);
  };
  deadline(START_DEADLINE_MS, 'the start');
  let ready = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (ready || !stdout.includes('ready\n')) return;
    ready = true;
    // The clock that matters starts here: the app is up and about to close (or be signalled).
    deadline(EXIT_DEADLINE_MS, 'ready');
    onReady((signal) => child.kill(signal));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe(`nest ${nestVersion}: shutdown`, () => {
  it('after app.close() the process exits by itself, every client closed', async () => {
    mock = (await startMockServer({ vendor: 'procurios' })) as MockServer<'procurios'>;
    const ended = await run('close');
    expect(ended.stderr).toBe('');
    expect(ended.stdout).toBe(`nest ${nestVersion}\ndefault 200\nsecond 200\nready\nclosed ${ErrorCode.CLOSED} ${ErrorCode.CLOSED}\n`);
    expect([ended.code, ended.signal]).toEqual([0, null]);
    expect(mock.stats.tokenRequests).toBe(2);
  }, TEST_TIMEOUT_MS);

  it('with enableShutdownHooks(), SIGTERM closes the app and the process ends', async () => {
    mock = (await startMockServer({ vendor: 'procurios' })) as MockServer<'procurios'>;
    const ended = await run('signal', (kill) => kill('SIGTERM'));
    expect(ended.stderr).toBe('');
    expect(ended.stdout).toBe(`nest ${nestVersion}\ndefault 200\nsecond 200\nready\n`);
    // The same app.close() as above (enableShutdownHooks calls it); Nest's shutdown hooks run, then re-send the signal to the process, which ends by it.
    expect([ended.code, ended.signal]).toEqual([null, 'SIGTERM']);
  }, TEST_TIMEOUT_MS);
});
