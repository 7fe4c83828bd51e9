import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const appDir = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node src/demo.mjs` as a user would and collects what it prints. */
function runDemo(): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/demo.mjs'], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let run: Run;
beforeAll(async () => {
  run = await runDemo();
});

const lines = (pattern: RegExp): string[] => run.stdout.split('\n').filter((l) => pattern.test(l));

describe('pnpm demo', () => {
  it('exits 0 by itself, with nothing on stderr', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('closed the client and the server; done');
  });

  it('makes exactly one password grant request for ten concurrent callers', () => {
    expect(lines(/POST \/token grant_type=password/)).toHaveLength(1);
    expect(run.stdout).toMatch(/all 10 callers got #[0-9a-f]{6}; token requests: 1 \(1 password, 0 refresh_token\)/);
  });

  it('serves the second call from the cache', () => {
    expect(run.stdout).toMatch(/#[0-9a-f]{6} served from cache, no token request; token requests: 1 /);
  });

  it('refreshes in the background with the refresh_token grant and rotates the refresh token', () => {
    expect(run.stdout).toContain('a background refresh has started');
    expect(lines(/POST \/token grant_type=refresh_token -> 200, refresh token #[0-9a-f]{6} spent/).length).toBeGreaterThanOrEqual(1);
    expect(run.stdout).toMatch(/event {3}token_request grant=password kind=refresh outcome=success/);
    expect(run.stdout).toMatch(/event {3}token source=refresh access #[0-9a-f]{6}/);
    expect(run.stdout).toMatch(/the next call gets #[0-9a-f]{6}; token requests: 2 \(1 password, 1 refresh_token\)/);
  });

  it('calls the protected API through client.fetch and retries once after a 401', () => {
    expect(lines(/GET \/api\/me with Bearer #[0-9a-f]{6} -> 200/)).toHaveLength(2);
    expect(lines(/GET \/api\/me with Bearer #[0-9a-f]{6} -> 401 invalid_token/)).toHaveLength(1);
    expect(run.stdout).toContain('HTTP 200 {"user":"ada","scope":"profile"} after one retry with a new token');
  });

  it('runs every vendor preset against its simulator: a login, then a refresh or a new login', () => {
    expect(run.stdout).toMatch(/prodoscore +HTTP 200, then HTTP 200; token requests: 1 password, 1 refresh_token/);
    expect(run.stdout).toMatch(/bio-prodict +HTTP 200, then HTTP 200; token requests: 1 password, 1 refresh_token/);
    expect(run.stdout).toMatch(/procurios +HTTP 200, then HTTP 200; token requests: 2 client_credentials/);
    expect(run.stdout).toMatch(/petrosoft +HTTP 200, then HTTP 200; token requests: 1 password, 1 refresh_token/);
  });

  it('never prints a token, the password or the client secret', () => {
    const output = run.stdout + run.stderr;
    // The demo server issues tokens as demo-at-<random> and demo-rt-<random>.
    expect(output).not.toMatch(/demo-(at|rt)-/);
    // No long base64url run either: only 6-character fingerprints are printed.
    expect(output).not.toMatch(/[A-Za-z0-9_-]{32,}/);
    expect(output).not.toContain('demo-password-1815');
    expect(output).not.toContain('demo-client-secret');
    expect(output).toMatch(/TokenSet \{ accessToken: '\[REDACTED\]'.*refreshToken: '\[REDACTED\]'/);
  });
});
