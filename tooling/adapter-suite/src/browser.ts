/** A browser, as far as the login flow can tell: a cookie jar and requests over node:http, no redirect followed. */
import { request } from 'node:http';

export interface Reply {
  status: number;
  location: string | undefined;
  setCookies: string[];
  contentType: string;
  cacheControl: string;
  body: string;
}

export interface SendInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Stops a request that hangs: every test request ends by itself. */
const REQUEST_TIMEOUT_MS = 10_000;

/** One plain HTTP request on loopback; the reply read in full. */
export function httpRequest(url: string, init: SendInit = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          setCookies: res.headers['set-cookie'] ?? [],
          contentType: res.headers['content-type'] ?? '',
          cacheControl: res.headers['cache-control'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${init.method ?? 'GET'} ${url}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A cookie jar for one app origin; sends `Accept: text/html` unless told otherwise, as a navigation does. */
export class Browser {
  readonly jar: Map<string, string> = new Map();
  readonly #origin: string;

  constructor(appUrl: string) {
    this.#origin = new URL(appUrl).origin;
  }

  async send(url: string, init: SendInit = {}): Promise<Reply> {
    const ours = new URL(url, this.#origin).origin === this.#origin;
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    if (ours && this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const reply = await httpRequest(new URL(url, this.#origin).href, { ...init, headers });
    if (ours) {
      for (const line of reply.setCookies) {
        const [pair = ''] = line.split(';');
        const eq = pair.indexOf('=');
        if (/;\s*max-age=0\b/i.test(line)) this.jar.delete(pair.slice(0, eq));
        else this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
    }
    return reply;
  }

  /** The app's answer to `GET path` as an API client (`Accept: application/json`). */
  api(path: string, init: SendInit = {}): Promise<Reply> {
    return this.send(path, { ...init, headers: { accept: 'application/json', ...init.headers } });
  }

  /**
   * Signs in: the app's login route, the authorization server's page (its consent form approved
   * or denied when it shows one), and the callback. Returns the callback's reply.
   */
  async login(query = '', decision: 'approve' | 'deny' = 'approve'): Promise<Reply> {
    const start = await this.send(`/auth/login${query}`);
    if (start.status !== 302 || start.location === undefined) throw new Error(`the login answered ${start.status}`);
    let page = await this.send(start.location);
    const ticket = /name="consent" value="([^"]+)"/.exec(page.body)?.[1];
    if (page.status === 200 && ticket !== undefined) {
      page = await this.send(start.location.split('?')[0]!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ consent: ticket, decision }).toString(),
      });
    }
    if (page.status !== 302 || page.location === undefined) throw new Error(`the authorize page answered ${page.status}`);
    return this.send(page.location);
  }
}
