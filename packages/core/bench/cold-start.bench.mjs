#!/usr/bin/env node
// Cold start: what loading the built package costs a fresh process (a serverless cold start pays
// it on every instance), next to openid-client, the most careful OAuth client for Node, loaded the
// same way in the same run. Each variant runs in its own new node process, the variants alternate
// round by round so all of them see the same machine noise, and the medians are reported:
//  - import time: performance.now() around the import() or require() inside that process;
//  - CPU time: process.cpuUsage() over the same span (user + system; the steadier figure on a
//    shared machine);
//  - peak RSS: process.resourceUsage().maxRSS at the end, with a bare node process for reference.
// Goal: core's import time at most 0.5 times openid-client's. Reported, never enforced. No network.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { setTimeout, clearTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const ROUNDS = 7;
const RATIO_GOAL = 0.5;
const CHILD_TIMEOUT_MS = 30_000;

const coreEsm = new URL('../dist/index.mjs', import.meta.url).href;
const coreCjs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
// Resolved here, from core's devDependencies, so the child needs no resolution context of its own.
const openidClient = import.meta.resolve('openid-client');
const openidVersion = JSON.parse(readFileSync(new URL('../node_modules/openid-client/package.json', import.meta.url), 'utf8')).version;

/** The code each child runs: time the load, then print one JSON line. */
const measure = (load) => `
const t0 = performance.now();
const c0 = process.cpuUsage();
${load}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS }));
`;

const VARIANTS = [
  { name: 'node alone (reference)', type: 'module', code: measure('') },
  { name: '@prodo-auth/core import()', type: 'module', code: measure(`await import(${JSON.stringify(coreEsm)});`) },
  { name: '@prodo-auth/core require()', type: 'commonjs', code: measure(`require(${JSON.stringify(coreCjs)});`) },
  { name: `openid-client ${openidVersion} import()`, type: 'module', code: measure(`await import(${JSON.stringify(openidClient)});`) },
];

/** Runs one variant in a fresh node process and resolves to its measurement. */
function runOnce(variant) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--input-type=${variant.type}`, '--eval', variant.code], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // No inherited NODE_OPTIONS (a loader or --require would be measured too).
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${variant.name}: exit ${code ?? signal}\n${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const samples = new Map(VARIANTS.map((v) => [v.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order too, so no variant always runs right after the same neighbour.
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) samples.get(variant.name).push(await runOnce(variant));
}

const rows = VARIANTS.map((v) => {
  const s = samples.get(v.name);
  return {
    variant: v.name,
    'import ms': +median(s.map((x) => x.ms)).toFixed(1),
    'CPU ms': +median(s.map((x) => x.cpuMs)).toFixed(1),
    'peak RSS MB': +(median(s.map((x) => x.maxRssKb)) / 1024).toFixed(1),
  };
});
const [, esm, cjs, openid] = rows;
const ratio = (a, b) => +(a / b).toFixed(2);

console.log(`cold start: medians of ${ROUNDS} alternating rounds, one fresh process per measurement, node ${process.version} ${platform()}-${arch()}`);
console.table(rows);
console.log(
  `core/openid-client import time: ${ratio(esm['import ms'], openid['import ms'])} (import), ${ratio(cjs['import ms'], openid['import ms'])} (require); goal: at most ${RATIO_GOAL}`,
);
console.log(
  `core/openid-client CPU time: ${ratio(esm['CPU ms'], openid['CPU ms'])} (import), ${ratio(cjs['CPU ms'], openid['CPU ms'])} (require); ` +
    `peak RSS: ${esm['peak RSS MB']} / ${openid['peak RSS MB']} MB`,
);
console.log(`goal ${ratio(esm['import ms'], openid['import ms']) <= RATIO_GOAL ? 'met' : 'not met'} (reported, not enforced)`);
