import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, type MockServer } from '../src/index.js';
import { postForm, postJson } from './helpers.js';

function capture(): { write(text: string): boolean; text: () => string } {
  let buffer = '';
  return {
    write: (text: string) => {
      buffer += text;
      return true;
    },
    text: () => buffer,
  };
}

describe('runCli', () => {
  it('starts the vendor, prints its URLs, credentials and env, and stops when signalled', async () => {
    const stdout = capture();
    const controller = new AbortController();
    let server: MockServer | undefined;
    const done = runCli(['--vendor', 'prodoscore', '--port', '0', '--access-token-ttl', '60'], {
      stdout,
      signal: controller.signal,
      onListening: (s) => (server = s),
    });
    await expect.poll(() => server).toBeDefined();
    const out = stdout.text();
    expect(out).toContain(`prodoscore listening on ${server!.url}`);
    expect(out).toContain(server!.tokenUrl);
    expect(out).toContain('mock-customer-id');
    expect(out).toContain(`PRODO_AUTH_TOKEN_URL=${server!.tokenUrl}`);
    const { clientId, username, password } = server!.credentials as { clientId: string; username: string; password: string };
    const login = await postForm(server!.tokenUrl, { grant_type: 'password', client_id: clientId, username, password });
    expect(login.body.expires_in).toBe(60);

    controller.abort();
    expect(await done).toBe(0);
    expect(stdout.text()).toContain('stopped');
    await expect(fetch(server!.tokenUrl)).rejects.toThrow();
  });

  it('--help prints usage; bad arguments exit 2 with the reason', async () => {
    const out = capture();
    expect(await runCli(['--help'], { stdout: out })).toBe(0);
    expect(out.text()).toContain('Usage: prodo-auth-mock --vendor');
    for (const argv of [[], ['--vendor', 'nope'], ['--vendor', 'petrosoft', '--port', 'x'], ['--bogus'], ['--vendor', 'petrosoft', '--consent']]) {
      const err = capture();
      expect(await runCli(argv, { stdout: capture(), stderr: err })).toBe(2);
      expect(err.text()).toMatch(/^prodo-auth-mock: /);
    }
  });
});

describe('prodo-auth-mock bin', () => {
  const bin = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));

  it('runs from dist, prints the URL, serves, and exits 0 on SIGTERM', async () => {
    if (!existsSync(bin)) throw new Error('dist/cli.mjs is missing: build first (npx tsdown, or turbo run test)');
    const child = spawn(process.execPath, [bin, '--vendor', 'petrosoft', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
        setTimeout(() => reject(new Error('no output within 10 s')), 10_000).unref();
      });
      const info = JSON.parse(line) as { url: string; tokenUrl: string; credentials: { login: string; password: string } };
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const login = await postJson(info.tokenUrl, info.credentials);
      expect(login.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
