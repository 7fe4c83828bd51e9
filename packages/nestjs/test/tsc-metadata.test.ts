/**
 * The built package inside an app compiled by tsc with emitDecoratorMetadata (what `nest new`
 * sets up): the package applies its decorators as functions and injects by token, so neither the
 * app's metadata nor its absence changes anything. Compiles test/fixtures/tsc/metadata-app.mts
 * into .test-results and runs it against a recording API on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nestVersion } from './app.js';

const run = promisify(execFile);
const dir = fileURLToPath(new URL('..', import.meta.url));
// Three levels under the package, as the source is: its `../../../dist` import stays right.
const outDir = '.test-results/tsc/out';

const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ authorization: req.headers.authorization })));
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

describe(`nest ${nestVersion}: in an app compiled by tsc with emitDecoratorMetadata`, () => {
  it('the app injects its own classes by metadata and the HttpService, TokenClient and @ProdoAuth() by token', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const flags = ['--experimentalDecorators', '--emitDecoratorMetadata', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    await run(process.execPath, [tsc, ...flags, '--strict', '--skipLibCheck', '--types', 'node', '--rootDir', 'test/fixtures/tsc', '--outDir', outDir, 'test/fixtures/tsc/metadata-app.mts'], { cwd: dir, timeout: 60_000 });
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { stdout, stderr } = await run(process.execPath, [`${outDir}/metadata-app.mjs`, api], { cwd: dir, timeout: 20_000 });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({ status: 200, sent: 'Bearer tsc-token', token: 'tsc-token', same: true });
  }, 90_000);
});
