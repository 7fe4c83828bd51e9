import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
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

  // Exactly what configFromEnv() reads for each preset's default grant (core's config.ts); the
  // release check feeds the installed CLI's output to the installed core to prove it end to end.
  it.each([
    ['prodoscore', ['PRESET', 'TOKEN_URL', 'API_URL', 'CLIENT_ID', 'USERNAME', 'PASSWORD']],
    ['bio-prodict', ['PRESET', 'TOKEN_URL', 'API_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'USERNAME', 'PASSWORD']],
    ['procurios', ['PRESET', 'GRANT', 'TOKEN_URL', 'API_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'SCOPE']],
    ['petrosoft', ['PRESET', 'BASE_URL', 'API_URL', 'USERNAME', 'PASSWORD']],
  ])('--json env for %s names only variables configFromEnv reads for it (no authorize URL for client credentials)', async (vendor, names) => {
    const stdout = capture();
    const controller = new AbortController();
    let server: MockServer | undefined;
    const done = runCli(['--vendor', vendor, '--json'], { stdout, signal: controller.signal, onListening: (s) => (server = s) });
    await expect.poll(() => server).toBeDefined();
    controller.abort();
    expect(await done).toBe(0);
    const info = JSON.parse(stdout.text().split('\n')[0]!) as { env: Record<string, string>; apiUrl: string };
    expect(Object.keys(info.env).sort()).toEqual(names.map((n) => `PRODO_AUTH_${n}`).sort());
    expect(info.env.PRODO_AUTH_API_URL).toBe(info.apiUrl);
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
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string>; files: string[] };
  const bin = fileURLToPath(new URL(`../${manifest.bin['prodo-auth-mock']}`, import.meta.url));

  it('is a committed file outside dist/, so pnpm links it on a fresh clone before any build, and is published', () => {
    // A bin under dist/ is missing at install time: pnpm warned "Failed to create bin" once per
    // workspace depending on this package.
    expect(manifest.bin['prodo-auth-mock']).toBe('./bin/prodo-auth-mock.mjs');
    expect(existsSync(bin)).toBe(true);
    const text = readFileSync(bin, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(bin).mode & 0o111, 'executable').not.toBe(0);
    expect(manifest.files).toContain('bin');
  });

  it('runs the package.json bin, which loads the built CLI: prints the URL, serves, and exits 0 on SIGTERM', async () => {
    if (!existsSync(fileURLToPath(new URL('../dist/cli.mjs', import.meta.url)))) {
      throw new Error('dist/cli.mjs is missing: build first (npx tsdown, or turbo run test)');
    }
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
