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
    expect(e.cause).toBe(cause);
    expect(new OAuthError({ error: 'invalid_grant', status: 400 }).message).toBe('invalid_grant (HTTP 400)');
    expect(new ConfigError('Invalid x', [{ path: 'tokenUrl', message: 'is required' }]).message).toBe(
      'Invalid x:\n  - tokenUrl: is required',
    );
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
