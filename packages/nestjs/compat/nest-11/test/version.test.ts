import { describe, expect, it } from 'vitest';
import { nestVersion } from '../../../test/app.js';
import { assertLoadedNest } from '../../version-check.js';

describe('compat: Nest 11', () => {
  it('the source and the tests load Nest 11 from this package, one copy of it', async () => {
    expect(nestVersion).toMatch(/^11\./);
    await assertLoadedNest('11.');
  });
});
