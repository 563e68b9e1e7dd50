import t from 'tap';
import { javaStringHash, matchesTags, matchesTagsCode, parseTagSubscription, tagsCodeOf } from '../../../protocol/message/index.js';

t.test('Java String.hashCode', async (t) => {
  t.equal(javaStringHash('TagA'), 2598919);
  t.equal(javaStringHash('TagB'), 2598920);
  t.equal(javaStringHash('*'), 42);
  t.equal(javaStringHash(''), 0);
  t.equal(javaStringHash('hello world'), 1794106052);
  t.equal(javaStringHash('polygenelubricants'), -2147483648, 'wraps to Integer.MIN_VALUE');
  t.equal(javaStringHash('日本'), 26085 * 31 + 26412, 'BMP chars are one unit each');
  t.equal(javaStringHash('🚀'), 0xd83d * 31 + 0xde80, 'astral chars hash as two UTF-16 units');
  t.ok(javaStringHash('TagUnicode-long-tag-name-over-several-words') | 0, 'stays a signed 32-bit int');
});

t.test('tagsCode', async (t) => {
  t.equal(tagsCodeOf('TagA'), 2598919);
  t.equal(tagsCodeOf(undefined), 0);
  t.equal(tagsCodeOf(null), 0);
  t.equal(tagsCodeOf(''), 0);
});

t.test('subscription expressions', async (t) => {
  for (const all of [undefined, null, '', '*']) {
    const s = parseTagSubscription(all);
    t.ok(s?.all, `${JSON.stringify(all)} subscribes to all`);
    t.equal(s?.subString, '*');
    t.ok(s && matchesTagsCode(s, 0) && matchesTagsCode(s, 12345) && matchesTags(s, undefined));
  }
  const s = parseTagSubscription(' TagA ||TagB|| TagA ||\tTagC');
  t.strictSame(s?.tagsSet, ['TagA', 'TagB', 'TagC'], 'trimmed, de-duplicated, in order');
  t.strictSame(s?.codeSet, [2598919, 2598920, 2598921]);
  t.equal(s?.all, false);
  t.ok(s && matchesTagsCode(s, 2598920) && !matchesTagsCode(s, 0), 'an untagged message does not match a tag list');
  t.ok(s && matchesTags(s, 'TagC') && !matchesTags(s, 'TagD') && !matchesTags(s, undefined));
  t.strictSame(parseTagSubscription('TagA || *')?.codeSet, [2598919, 42], "'*' inside a list is an ordinary tag");
  t.strictSame(parseTagSubscription(' * ')?.tagsSet, ['*'], "' * ' is not subscribe-all (Java compares exactly)");
  t.strictSame(parseTagSubscription('a|||b')?.tagsSet, ['a', '|b'], 'splits on the first || of a run, like Java');
  t.strictSame(parseTagSubscription('\u00a0TagA')?.tagsSet, ['\u00a0TagA'], 'Java trim leaves non-ASCII space');
  t.equal(parseTagSubscription('||'), undefined, 'nothing but separators is a parse failure');
  t.equal(parseTagSubscription('||||'), undefined);
  const blanks = parseTagSubscription(' || ');
  t.strictSame(blanks?.tagsSet, [], 'blank tags give empty sets');
  t.ok(blanks && !matchesTagsCode(blanks, 2598919), 'which match nothing on the broker');
});
