import { describe, expect, it } from 'vitest';
import { nestVersion } from '../../../test/app.js';
import { assertLoadedNest } from '../../version-check.js';

describe('compat: Nest 10', () => {
  it('the source and the tests load Nest 10 from this package, one copy of it', async () => {
    expect(nestVersion).toMatch(/^10\./);
    await assertLoadedNest('10.');
  });
});
