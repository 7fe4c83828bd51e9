/**
 * allowedOrigins, the one origin rule of createAuthorizedFetch, authInterceptor and the Axios
 * adapter: plain http off loopback needs the same alarming opt-in as createTokenClient.
 * Construction-time checks: nothing is sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  allowedOrigins,
  authInterceptor,
  ConfigError,
  createAuthorizedFetch,
  createTokenClient,
  ErrorCode,
  staticTokenGrant,
  type TokenClient,
} from '../../src/index.js';

const clients: TokenClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A client whose apiUrl is plain http on another host (allowed for the client itself by its own opt-in). */
function insecureClient(): TokenClient {
  const c = createTokenClient({
    grant: staticTokenGrant({ token: 'static-token-1234' }),
    apiUrl: 'http://api.example.com/v1',
    dangerouslyAllowInsecureHttp: true,
  });
  clients.push(c);
  return c;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('allowedOrigins: plain http off loopback', () => {
  it('refuses an explicit http origin off loopback with a ConfigError that names the option to set', () => {
    const error = thrown(() => allowedOrigins({ origins: ['https://ok.example.com', 'http://api.example.com'] }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: ErrorCode.CONFIG, issues: [{ path: 'origins[1]' }] });
    expect((error as Error).message).toMatch(/dangerouslyAllowInsecureHttp: true/);
    expect((error as Error).message).not.toContain('api.example.com');
  });

  it('refuses an http base URL off loopback (the fallback) with a ConfigError', () => {
    expect(() => allowedOrigins({}, undefined, 'http://api.example.com/v1')).toThrow(ConfigError);
    expect(thrown(() => allowedOrigins({}, 'http://10.0.0.8:8080'))).toMatchObject({ code: ErrorCode.CONFIG });
  });

  it('accepts them with dangerouslyAllowInsecureHttp: true, and matches exactly those origins', () => {
    const allowed = allowedOrigins({ origins: ['http://api.example.com'], dangerouslyAllowInsecureHttp: true });
    expect(allowed('http://api.example.com/x')).toBe(true);
    expect(allowed('https://api.example.com/x')).toBe(false);
    expect(allowedOrigins({ dangerouslyAllowInsecureHttp: true }, 'http://api.example.com/v1')('http://api.example.com/y')).toBe(true);
  });

  it.each(['http://localhost:8080', 'http://127.0.0.1', 'http://127.9.8.7:9000/api', 'http://[::1]:3000'])(
    'keeps loopback http allowed without the opt-in: %s',
    (origin) => {
      expect(allowedOrigins({ origins: [origin] })(origin)).toBe(true);
      expect(allowedOrigins({}, origin)(origin)).toBe(true);
    },
  );

  it('accepts https anywhere, and refuses schemes that are not http(s)', () => {
    expect(allowedOrigins({ origins: ['https://api.example.com'] })('https://api.example.com/x')).toBe(true);
    expect(thrown(() => allowedOrigins({ origins: ['ws://api.example.com'] }))).toMatchObject({ code: ErrorCode.CONFIG });
    expect(thrown(() => allowedOrigins({ origins: ['ftp://api.example.com'] }))).toMatchObject({ code: ErrorCode.CONFIG });
  });

  it('refuses `origins` that is not an array with a ConfigError', () => {
    const notArray = 'https://api.example.com' as unknown as string[];
    expect(thrown(() => allowedOrigins({ origins: notArray }))).toMatchObject({ code: ErrorCode.CONFIG, issues: [{ path: 'origins' }] });
  });
});

describe.each([
  ['createAuthorizedFetch', (c: TokenClient, o: object): unknown => createAuthorizedFetch(c, o)],
  ['authInterceptor', (c: TokenClient, o: object): unknown => authInterceptor(c, o)],
] as const)('%s: plain http off loopback', (_name, make) => {
  it("refuses the client's http apiUrl off loopback unless given dangerouslyAllowInsecureHttp", () => {
    const c = insecureClient();
    expect(thrown(() => make(c, {}))).toMatchObject({ code: ErrorCode.CONFIG });
    expect(() => make(c, { dangerouslyAllowInsecureHttp: true })).not.toThrow();
  });

  it('refuses explicit http origins off loopback unless given dangerouslyAllowInsecureHttp', () => {
    const c = insecureClient();
    expect(thrown(() => make(c, { origins: ['http://other.example.com'] }))).toMatchObject({ code: ErrorCode.CONFIG });
    expect(() => make(c, { origins: ['http://other.example.com'], dangerouslyAllowInsecureHttp: true })).not.toThrow();
  });
});
