/**
 * The package as it is published (package.json and dist, so `npx tsdown` first), in a project of
 * its own next to one axios version: its types compile for an ESM and a CommonJS consumer, and both
 * builds load and send the token. The copy matters: `@prodo-auth/axios` must find the consumer's
 * axios, not this repository's.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const nodeTypes = join(realpathSync(join(require.resolve('@types/node/package.json'), '..')), '..');

const ESM_CONSUMER = `import axios from 'axios';
import { createTokenClient, staticTokenGrant, type TokenClient } from '@prodo-auth/core';
import { attachProdoAuth, type AttachProdoAuthOptions } from '@prodo-auth/axios';

const client: TokenClient = createTokenClient({ grant: staticTokenGrant({ token: 'esm-token' }) });
const api = axios.create({ baseURL: 'https://api.example.com' });
const options: AttachProdoAuthOptions = { origins: ['https://api.example.com'] };
const detach: () => void = attachProdoAuth(api, client, options);
detach();
// @ts-expect-error an axios instance is required
attachProdoAuth({}, client);
// @ts-expect-error origins are URLs
attachProdoAuth(api, client, { origins: true });
`;

const CJS_CONSUMER = `import axios = require('axios');
import core = require('@prodo-auth/core');
import prodo = require('@prodo-auth/axios');

const client = core.createTokenClient({ grant: core.staticTokenGrant({ token: 'cjs-token' }) });
const detach: () => void = prodo.attachProdoAuth(axios.create({ baseURL: 'https://api.example.com' }), client);
detach();
// @ts-expect-error a token client is required
prodo.attachProdoAuth(axios.create({ baseURL: 'https://api.example.com' }), {});
`;

/** Sends one request through an attached instance to a local server and prints the Authorization it got. */
const RUNTIME = (load: string): string => `${load}
const server = http.createServer((req, res) => res.end(JSON.stringify({ authorization: req.headers.authorization })));
server.listen(0, '127.0.0.1', async () => {
  const origin = 'http://127.0.0.1:' + server.address().port;
  const client = core.createTokenClient({ grant: core.staticTokenGrant({ token: 'runtime-token' }), apiUrl: origin });
  const api = axios.create({ baseURL: origin });
  prodo.attachProdoAuth(api, client);
  const { data } = await api.get('/x');
  process.stdout.write(axios.VERSION + ' ' + data.authorization);
  await client.close();
  server.close();
});
`;

describe.each([
  ['axios', '1.21.1'],
  ['axios-oldest', '1.2.0'],
])('the published package with %s (%s)', (dependency, version) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'prodo-auth-axios-'));
    const modules = join(dir, 'node_modules');
    mkdirSync(join(modules, '@prodo-auth', 'axios'), { recursive: true });
    cpSync(join(here, 'package.json'), join(modules, '@prodo-auth', 'axios', 'package.json'));
    cpSync(join(here, 'dist'), join(modules, '@prodo-auth', 'axios', 'dist'), { recursive: true });
    symlinkSync(realpathSync(join(here, 'node_modules', '@prodo-auth', 'core')), join(modules, '@prodo-auth', 'core'));
    symlinkSync(realpathSync(join(here, 'node_modules', dependency)), join(modules, 'axios'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(dir, 'consumer.mts'), ESM_CONSUMER);
    writeFileSync(join(dir, 'consumer.cts'), CJS_CONSUMER);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [nodeTypes], types: ['node'] },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    const load = (style: 'esm' | 'cjs'): string =>
      style === 'esm'
        ? `import http from 'node:http'; import axios from 'axios'; import * as core from '@prodo-auth/core'; import * as prodo from '@prodo-auth/axios';`
        : `const http = require('node:http'); const axios = require('axios'); const core = require('@prodo-auth/core'); const prodo = require('@prodo-auth/axios');`;
    writeFileSync(join(dir, 'runtime.mjs'), RUNTIME(load('esm')));
    writeFileSync(join(dir, 'runtime.cjs'), RUNTIME(load('cjs')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('type-checks for an ESM and a CommonJS consumer, with no errors in any declaration file', { timeout: 120_000 }, () => {
    let errors = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      errors = String((error as { stdout?: unknown }).stdout);
    }
    expect(errors).toBe('');
  });

  it('loads as ESM and as CommonJS and sends the token', { timeout: 60_000 }, () => {
    for (const file of ['runtime.mjs', 'runtime.cjs']) {
      const out = execFileSync(process.execPath, [join(dir, file)], { encoding: 'utf8', cwd: dir, timeout: 30_000 });
      expect(out).toBe(`${version} Bearer runtime-token`);
    }
  });
});
