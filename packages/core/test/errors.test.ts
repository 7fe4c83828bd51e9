import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ErrorCode,
  httpStatusForError,
  isProdoAuthError,
  OAuthError,
  ProdoAuthError,
  ReauthenticationRequiredError,
  TokenEndpointError,
} from '../src/index.js';

describe('errors', () => {
  it('name each class, carry a stable code, and chain the cause', () => {
    const cause = new Error('socket hang up');
    const e = new TokenEndpointError('unreachable', { code: ErrorCode.NETWORK, requestSent: false, cause });
    expect(e).toBeInstanceOf(ProdoAuthError);
    expect(e.name).toBe('TokenEndpointError');
    expect(e.code).toBe('ERR_PRODO_AUTH_NETWORK');
    // A foreign cause is chained as a sanitized copy (see the test below), a prodo-auth one as it is.
    expect(e.cause).toMatchObject({ name: 'Error', message: 'socket hang up' });
    const outer = new ReauthenticationRequiredError('log in', { cause: e });
    expect(outer.cause).toBe(e);
    expect(new OAuthError({ error: 'invalid_grant', status: 400 }).message).toBe('invalid_grant (HTTP 400)');
    expect(new ConfigError('Invalid x', [{ path: 'tokenUrl', message: 'is required' }]).message).toBe(
      'Invalid x:\n  - tokenUrl: is required',
    );
  });

  it('a foreign cause is attached as a sanitized copy: name, code, redacted message, no data, bounded depth', () => {
    const basic = Buffer.from('app:s3cret-Client-Secret').toString('base64');
    const root = Object.assign(new Error('Response does not match the HTTP/1.1 protocol (Expected HTTP/)'), {
      code: 'HPE_INVALID_CONSTANT',
      data: `POST /token HTTP/1.1\r\nauthorization: Basic ${basic}\r\n\r\npassword=hunter2-Pa55word`,
      bytesParsed: 0,
    });
    const wrapper = Object.assign(new TypeError(`fetch failed, Authorization: Bearer ${basic}`, { cause: root }), {
      request: { headers: { authorization: `Basic ${basic}` } },
    });
    let deep: Error = wrapper;
    for (let i = 0; i < 10; i++) deep = new Error(`level ${i}`, { cause: deep });
    const e = new TokenEndpointError('unreachable', { code: ErrorCode.NETWORK, requestSent: true, cause: wrapper });
    const cause = e.cause as Error & { code?: string };
    expect(cause).not.toBe(wrapper);
    expect(cause.name).toBe('TypeError');
    expect(Object.keys(cause)).toEqual([]);
    const rootCopy = cause.cause as Error & { code?: string };
    expect(rootCopy.code).toBe('HPE_INVALID_CONSTANT');
    expect(rootCopy.message).toBe(root.message);
    expect(Object.keys(rootCopy)).toEqual(['code']);
    const text = inspect(e, { showHidden: true, depth: 20 }) + JSON.stringify(e);
    expect(text).not.toContain(basic);
    expect(text).not.toContain('hunter2');
    // A chain deeper than the bound is cut, not copied without end.
    const long = new TokenEndpointError('x', { code: ErrorCode.NETWORK, requestSent: true, cause: deep });
    let depth = 0;
    for (let c = long.cause; c !== undefined; c = (c as Error).cause) depth++;
    expect(depth).toBeLessThanOrEqual(4);
    // Not an error at all: dropped.
    expect(new TokenEndpointError('x', { code: ErrorCode.NETWORK, requestSent: true, cause: { data: basic } }).cause).toBeUndefined();
  });

  it('OAuthError names the token endpoint when it knows it, and keeps error, errorDescription, status', () => {
    const e = new OAuthError({ error: 'invalid_grant', errorDescription: 'Bad credentials', status: 400, where: 'https://as.example/token' });
    expect(e.message).toBe('Token endpoint https://as.example/token answered with OAuth error invalid_grant: Bad credentials (HTTP 400)');
    expect(e).toMatchObject({ error: 'invalid_grant', errorDescription: 'Bad credentials', status: 400, code: ErrorCode.OAUTH });
  });

  it('isProdoAuthError recognises errors from another copy of the package, and nothing else', () => {
    // A second install of core has its own classes: instanceof fails, the brand does not.
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('prodo-auth.error'), { value: true });
    expect(foreign instanceof ProdoAuthError).toBe(false);
    expect(isProdoAuthError(foreign)).toBe(true);
    expect(isProdoAuthError(new ReauthenticationRequiredError('log in'))).toBe(true);
    expect(isProdoAuthError(new Error('plain'))).toBe(false);
    expect(isProdoAuthError({ code: ErrorCode.OAUTH })).toBe(false);
    expect(isProdoAuthError(null)).toBe(false);
  });

  it('maps errors to the HTTP status an application should answer with', () => {
    expect(httpStatusForError(new ReauthenticationRequiredError('log in'))).toBe(401);
    expect(httpStatusForError(new OAuthError({ error: 'invalid_client', status: 401 }))).toBe(502);
    for (const code of [ErrorCode.NETWORK, ErrorCode.TIMEOUT, ErrorCode.HTTP_STATUS, ErrorCode.INVALID_RESPONSE, ErrorCode.RESPONSE_TOO_LARGE]) {
      expect(httpStatusForError(new TokenEndpointError('x', { code, requestSent: true }))).toBe(502);
    }
    expect(httpStatusForError(new ConfigError('bad'))).toBe(500);
    expect(httpStatusForError(new Error('boom'))).toBe(500);
  });
});
