/**
 * A sample app in a real browser, with the app as a parameter (`browserSuite({ name, startDemo })`,
 * run by every demo app): Debian's chromium signs in through the demo and the Procurios simulator's
 * authorize page (with and without its consent form), sees the profile, signs out, and the back
 * button does not bring the profile back; two tabs that start the sign-in at the same time both end
 * signed in. Everything on 127.0.0.1; one browser per suite, a fresh context per test, the browser
 * and the demos closed in afterAll. A subpath of its own (`@prodo-auth/adapter-suite/browser`), so
 * that only the browser tests load playwright-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { StartDemo } from './demo-suite.js';
import { freshContext, launchChromium, sessionCookie, textOf } from './chromium.js';

export { CHROMIUM_PATH, freshContext, launchChromium, sessionCookie, textOf } from './chromium.js';

type Demo = Awaited<ReturnType<StartDemo>>;

/** A sample app for the browser suite: the demo pages (#status, #sign-in, #user, #sign-out, /profile). */
export interface BrowserDemoUnderTest {
  /** Shown in the suite's name, for example `express demo`. */
  readonly name: string;
  readonly startDemo: StartDemo;
}

/** The simulator's user: its authorize page approves on their behalf. */
const USER = 'mock-user';
/** The simulator's tokens and codes are 40 hex characters (20 random bytes). */
const TOKEN_LIKE = /[0-9a-f]{40}/;
const TEST_TIMEOUT_MS = 30_000;

/** `promise`, or a rejection naming `what` after `ms`: a clear failure instead of the test's timeout. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** From the home page: the sign-in link, the simulator's authorize page (and its consent form), the profile. */
async function signIn(page: Page, url: string, consent: boolean): Promise<void> {
  await page.goto(`${url}/`);
  expect(await textOf(page, '#status')).toBe('not signed in');
  await page.click('#sign-in');
  if (consent) await approve(page, url);
  await page.waitForURL(`${url}/profile`);
}

/** Waits for the simulator's consent form (on its own origin, not the app's) and approves. */
async function approve(page: Page, url: string): Promise<void> {
  const approveButton = page.locator('button[name="decision"][value="approve"]');
  await approveButton.waitFor();
  expect(new URL(page.url()).origin).not.toBe(url);
  expect(new URL(page.url()).pathname).toBe('/l/oauth2/authorize');
  await approveButton.click();
}

/** What the browser (and so any script on the page) holds: never a token, the session only as an HttpOnly cookie. */
async function expectNothingSecretInTheBrowser(page: Page, context: BrowserContext): Promise<void> {
  // What a script on the page reads (an expression: this file is compiled without the DOM's types).
  expect(await page.evaluate<string>('document.cookie')).toBe('');
  expect(await page.content()).not.toMatch(TOKEN_LIKE);
  for (const cookie of await context.cookies()) expect(cookie.value).not.toMatch(TOKEN_LIKE);
}

export function browserSuite({ name, startDemo }: BrowserDemoUnderTest): void {
  let browser: Browser | undefined;
  const demos: Record<'plain' | 'consent', Demo | undefined> = { plain: undefined, consent: undefined };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // Not Promise.all: a failed launch must not leave a started demo behind unrecorded.
    demos.plain = await startDemo({ consent: false });
    demos.consent = await startDemo({ consent: true });
    browser = await launchChromium();
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await Promise.all(Object.values(demos).map((d) => d?.close()));
  }, TEST_TIMEOUT_MS);

  async function newContext(): Promise<BrowserContext> {
    const context = await freshContext(browser!);
    contexts.push(context);
    return context;
  }

  const demo = (consent: boolean): Demo => (consent ? demos.consent : demos.plain)!;

  describe(`${name} in chromium`, () => {
    for (const consent of [false, true]) {
      const form = consent ? 'with the consent form' : 'without a consent form';
      it(
        `signs in through the authorize page (${form}), shows the profile, and signing out ends the session for good`,
        async () => {
          const { url } = demo(consent);
          const context = await newContext();
          const page = await context.newPage();
          await signIn(page, url, consent);

          expect(await textOf(page, '#user')).toBe(USER);
          const session = await sessionCookie(context);
          expect(session).toMatchObject({ name: 'prodo-auth.sid', domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax', secure: false });
          await expectNothingSecretInTheBrowser(page, context);

          await page.click('#sign-out');
          await page.waitForURL(`${url}/`);
          expect(await textOf(page, '#status')).toBe('not signed in');
          expect(await sessionCookie(context)).toBeUndefined();

          // The old cookie, sent again, is nobody: the session is gone on the server, not only from the browser.
          await context.addCookies([session!]);
          await page.goto(`${url}/`);
          expect(await textOf(page, '#status')).toBe('not signed in');
        },
        TEST_TIMEOUT_MS,
      );
    }

    it(
      'the back button after sign-out never shows the signed-out profile from the cache: it lands on the sign-in',
      async () => {
        // With the consent form, the sign-in stops at the authorize page for the user to click,
        // so landing there (and not on the profile) is what the back button must show.
        const { url } = demo(true);
        const context = await newContext();
        const page = await context.newPage();
        await signIn(page, url, true);
        expect(await textOf(page, '#user')).toBe(USER);
        await page.click('#sign-out');
        await page.waitForURL(`${url}/`);

        await page.goBack();
        await page.waitForLoadState('load');
        expect(await textOf(page, '#user')).toBeUndefined();
        expect(await page.locator('#sign-out').count()).toBe(0);
        await page.locator('button[name="decision"][value="approve"]').waitFor();
        expect(new URL(page.url()).pathname).toBe('/l/oauth2/authorize');
        expect(await sessionCookie(context)).toBeUndefined();
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'the back button after sign-out, with an authorize page that approves at once, signs in anew and never shows the cached profile',
      async () => {
        // Without a consent form the simulator approves at once (as an authorization server with
        // its own session does), so going back to /profile signs the browser in again: the profile
        // is then right, but only from the server under a new session. The old page from the cache
        // would show with no session cookie at all.
        const { url } = demo(false);
        const context = await newContext();
        const page = await context.newPage();
        await signIn(page, url, false);
        const before = (await sessionCookie(context))!.value;
        await page.click('#sign-out');
        await page.waitForURL(`${url}/`);

        await page.goBack();
        await page.waitForLoadState('load');
        const after = await sessionCookie(context);
        expect(after?.value, 'a profile after the back button comes from a new sign-in, not from the cache').toBeDefined();
        expect(after?.value).not.toBe(before);
        expect([new URL(page.url()).pathname, await textOf(page, '#user')]).toEqual(['/profile', USER]);
      },
      TEST_TIMEOUT_MS,
    );

    /** Back on the app after the authorize page: the page the callback ended on, whatever it is. */
    async function landedOn(tab: Page, url: string): Promise<[string, string, string | undefined]> {
      await tab.waitForURL((u) => u.origin === url && u.pathname !== '/');
      return [new URL(tab.url()).pathname, await tab.title(), await textOf(tab, '#user')];
    }

    async function expectBothSignedIn(context: BrowserContext, tabs: Page[], url: string): Promise<void> {
      const landed = await Promise.all(tabs.map((tab) => landedOn(tab, url)));
      // A single login cookie per browser ends one tab on the callback's `invalid_state` page.
      expect(landed).toEqual([['/profile', 'Profile', USER], ['/profile', 'Profile', USER]]);
      // Still signed in in both tabs, under the one session cookie the browser kept.
      await Promise.all(tabs.map((tab) => tab.reload()));
      for (const tab of tabs) {
        expect([new URL(tab.url()).pathname, await textOf(tab, '#user')]).toEqual(['/profile', USER]);
        await expectNothingSecretInTheBrowser(tab, context);
      }
      expect((await sessionCookie(context))?.httpOnly).toBe(true);
    }

    it(
      'two tabs that start the sign-in together both end signed in (both consent forms open at once)',
      async () => {
        const { url } = demo(true);
        const context = await newContext();
        const tabs = [await context.newPage(), await context.newPage()];
        await Promise.all(tabs.map((tab) => tab.goto(`${url}/`)));
        await Promise.all(tabs.map((tab) => tab.click('#sign-in')));
        // Both logins are pending at the authorize page before either comes back.
        await Promise.all(tabs.map((tab) => tab.locator('button[name="decision"][value="approve"]').waitFor()));
        await approve(tabs[0]!, url);
        await approve(tabs[1]!, url);
        await expectBothSignedIn(context, tabs, url);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'two tabs that start the sign-in together both end signed in (an authorize page that approves at once)',
      async () => {
        const { url } = demo(false);
        const context = await newContext();
        // The simulator approves at once, so one tab's whole sign-in could end before the other's
        // begins. So each tab's GET /auth/login goes to the app as usual (its cookies kept in the
        // browser), but its answer, the redirect to the authorize page, is held until both tabs
        // have theirs: both logins were then started before either comes back.
        const held: Array<() => Promise<void>> = [];
        let bothArrived!: () => void;
        const arrived = new Promise<void>((resolve) => (bothArrived = resolve));
        await context.route(
          (u) => u.origin === url && u.pathname === '/auth/login',
          async (route) => {
            const response = await route.fetch({ maxRedirects: 0 });
            held.push(() => route.fulfill({ response }));
            if (held.length === 2) bothArrived();
          },
        );
        const tabs = [await context.newPage(), await context.newPage()];
        await Promise.all(tabs.map((tab) => tab.goto(`${url}/`)));
        // A click waits for its navigation, which waits for the held answer: awaited after the release.
        const clicks = Promise.all(tabs.map((tab) => tab.click('#sign-in')));
        clicks.catch(() => undefined); // awaited below; never an unhandled rejection if `within` throws first
        await within(arrived, 10_000, 'both tabs to start the sign-in');
        for (const release of held) await release();
        await clicks;
        await expectBothSignedIn(context, tabs, url);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
