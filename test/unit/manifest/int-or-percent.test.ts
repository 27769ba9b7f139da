import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  intOrPercentValue,
  isIntOrPercent,
  isZeroIntOrPercent,
  scaledValue,
} from '../../../src/manifest/int-or-percent.js';

const scaled: { value: number | string; total: number; want: number }[] = [
  { value: '25%', total: 10, want: 3 },
  { value: '10%', total: 5, want: 1 },
  { value: '33%', total: 3, want: 1 },
  { value: '34%', total: 3, want: 2 },
  { value: '50%', total: 3, want: 2 },
  { value: '1%', total: 150, want: 2 },
  { value: '0%', total: 10, want: 0 },
  { value: '100%', total: 7, want: 7 },
  { value: '20%', total: 10, want: 2 },
  { value: '1%', total: 1, want: 1 },
  { value: '150%', total: 2, want: 3 },
  { value: 1, total: 10, want: 1 },
  { value: 0, total: 10, want: 0 },
  { value: 5, total: 3, want: 5 },
  { value: 2, total: 0, want: 2 },
];
for (const c of scaled) {
  test(`scaledValue: ${JSON.stringify(c.value)} of ${c.total} is ${c.want}`, () => {
    assert.equal(scaledValue(c.value, c.total), c.want);
  });
}

for (const p of ['0%', '1%', '25%', '50%', '99%', '100%']) {
  test(`scaledValue: ${p} of 0 nodes is 0`, () => {
    assert.equal(scaledValue(p, 0), 0);
  });
}

const invalidScaled: { value: unknown; total: number }[] = [
  { value: '50', total: 10 },
  { value: '5.5%', total: 10 },
  { value: '-5%', total: 10 },
  { value: '%', total: 10 },
  { value: ' 5%', total: 10 },
  { value: 1.5, total: 10 },
  { value: Number.NaN, total: 10 },
  { value: '5%', total: -1 },
  { value: '5%', total: 1.5 },
];
for (const c of invalidScaled) {
  test(`scaledValue refuses ${JSON.stringify(c.value)} of ${c.total} with a TypeError`, () => {
    assert.throws(() => scaledValue(c.value as string, c.total), TypeError);
  });
}

const zero: { value: number | string; want: boolean }[] = [
  { value: 0, want: true },
  { value: '0%', want: true },
  { value: '00%', want: true },
  { value: 1, want: false },
  { value: '1%', want: false },
  { value: '100%', want: false },
  // The API server reads a non-percent string with strconv.Atoi: "0" is zero, garbage is zero too.
  { value: '0', want: true },
  { value: 'abc', want: true },
  { value: '50', want: false },
];
for (const c of zero) {
  test(`isZeroIntOrPercent(${JSON.stringify(c.value)}) is ${c.want}`, () => {
    assert.equal(isZeroIntOrPercent(c.value), c.want);
  });
}

test('intOrPercentValue follows Go strconv.Atoi for plain strings', () => {
  assert.equal(intOrPercentValue('-3'), -3);
  assert.equal(intOrPercentValue('+7'), 7);
  assert.equal(intOrPercentValue('7 '), 0);
  assert.equal(intOrPercentValue('12%'), 12);
});

const syntax: { value: unknown; want: boolean }[] = [
  { value: 0, want: true },
  { value: 3, want: true },
  { value: '30%', want: true },
  { value: '250%', want: true }, // the range is a separate rule
  { value: -1, want: false },
  { value: 1.5, want: false },
  { value: '50', want: false },
  { value: '-5%', want: false },
  { value: '5.5%', want: false },
  { value: true, want: false },
  { value: null, want: false },
];
for (const c of syntax) {
  test(`isIntOrPercent(${JSON.stringify(c.value)}) is ${c.want}`, () => {
    assert.equal(isIntOrPercent(c.value), c.want);
  });
}
