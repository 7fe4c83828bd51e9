/** `safeReturnTo`: only same-site relative paths survive; everything else is `/`. */
import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/adapter.js';

const HOSTILE: readonly unknown[] = [
  '//evil.example',
  '//evil.example/path',
  '/\\evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  'https://evil.example',
  'http:evil.example',
  'HTTPS://evil.example/',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,x',
  '%2F%2Fevil.example',
  '/%2F/evil.example',
  '/%2f%2fevil.example',
  '/%5Cevil.example',
  '/%5cevil.example',
  '/%252F%252Fevil.example',
  '/%25252F/evil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\nSet-Cookie:x=1',
  '/%0d%0aSet-Cookie:x=1',
  '/%00',
  '/\u0000',
  '/\u007f',
  '/%E0%A4%A', // malformed percent-encoding
  'evil.example',
  '',
  ' /path',
  '/' + 'a'.repeat(3000),
  undefined,
  null,
  42,
  ['/a'],
];

describe('safeReturnTo', () => {
  it.each(HOSTILE.map((v) => [JSON.stringify(v)?.slice(0, 60) ?? String(v), v]))('falls back to / for %s', (_label, value) => {
    expect(safeReturnTo(value)).toBe('/');
  });

  it.each([
    ['/', '/'],
    ['/orders', '/orders'],
    ['/orders?page=2&sort=desc', '/orders?page=2&sort=desc'],
    ['/a/../b', '/b'],
    ['/search?q=%2F%2Fnot-a-host', '/search?q=%2F%2Fnot-a-host'],
    ['/café', '/caf%C3%A9'],
    ['/path#frag', '/path#frag'],
  ])('keeps the same-site path %s as %s', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });
});
