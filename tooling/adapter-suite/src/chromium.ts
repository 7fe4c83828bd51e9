/**
 * Debian's chromium, driven by playwright-core: never a browser that playwright downloads. On CI,
 * `.ci/run` installs the package (`apt-get install --no-install-recommends chromium`) when
 * /usr/bin/chromium is missing. Each launch gets playwright's new, empty user data dir, and each
 * test a fresh context, so no cookie or cache entry leaks from one test into the next.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, no sandbox (CI runs as root), and nothing that talks to the network by itself. */
const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Bounds every wait of a test's page, so a stuck step fails fast with its own message. */
const STEP_TIMEOUT_MS = 10_000;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium), as .ci/run does; never a downloaded browser`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS], timeout: 20_000 });
}

/** A fresh context (its own cookies and cache) with bounded waits. */
export async function freshContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return context;
}

/** The session cookie (`prodo-auth.sid`, or `__Host-prodo-auth.sid` on https), if the browser holds one. */
export async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
  return (await context.cookies()).find((c) => /^(__Host-)?prodo-auth\.sid$/.test(c.name));
}

/** The visible text of the page's `selector`, or undefined when the page has none. */
export async function textOf(page: Page, selector: string): Promise<string | undefined> {
  const element = page.locator(selector);
  return (await element.count()) === 0 ? undefined : ((await element.first().textContent()) ?? '').trim();
}
