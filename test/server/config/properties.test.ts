import t from 'tap';
import { parseProperties, PropertiesSyntaxError } from '../../../server/config/JavaProperties.js';

const values = (text: string): Record<string, string> =>
  Object.fromEntries([...parseProperties(text)].map(([k, e]) => [k, e.value]));
const lines = (text: string): Record<string, number> =>
  Object.fromEntries([...parseProperties(text)].map(([k, e]) => [k, e.line]));

// Every expectation below was also produced by java.util.Properties.load (JDK 17 and 25).
const cases: [string, string, Record<string, string>][] = [
  // separators
  ['= separator', 'a=b', { a: 'b' }],
  ['= with blanks around', 'a = b', { a: 'b' }],
  [': separator', 'a:b', { a: 'b' }],
  [': with blanks around', 'a : b', { a: 'b' }],
  ['blank separator', 'a b', { a: 'b' }],
  ['tab around =', 'a\t=\tb', { a: 'b' }],
  ['only the first separator counts', 'a=b:c=d', { a: 'b:c=d' }],
  ['a second = after blanks is value', 'a = = b', { a: '= b' }],
  ['== keeps the second =', 'a == b', { a: '= b' }],
  [':= keeps the =', 'a := b', { a: '= b' }],
  ['blanks then =: keeps the :', 'a  =: b', { a: ': b' }],
  ['blank separator, then text with =', 'a b = c', { a: 'b = c' }],
  ['key only', 'a', { a: '' }],
  ['empty value', 'a=', { a: '' }],
  ['empty key', '=b', { '': 'b' }],
  ['empty key with :', ':b', { '': 'b' }],
  // whitespace
  ['leading blanks dropped', '  a=b', { a: 'b' }],
  ['leading tab and form feed dropped', '\t\f a=b', { a: 'b' }],
  ['trailing blanks of the value kept', 'a=  b c  ', { a: 'b c  ' }],
  ['blank separator keeps trailing blanks', 'a   b  ', { a: 'b  ' }],
  ['blank lines skipped', '\n\n   \n\t\na=b\n\n', { a: 'b' }],
  // comments
  ['# comment', '# c\na=b', { a: 'b' }],
  ['! comment', '! c\na=b', { a: 'b' }],
  ['comment after blanks', '   # c\na=b', { a: 'b' }],
  ['! after a blank is a comment', ' !x=y', {}],
  ['commented-out setting', '#a=b', {}],
  ['# inside a value is text', 'a=b # not a comment', { a: 'b # not a comment' }],
  ['a comment line is never continued', '# comment \\\na=b', { a: 'b' }],
  ['escaped # starts a key', '\\#notcomment=v', { '#notcomment': 'v' }],
  // escapes
  ['\\t \\n \\r \\f', 'a=\\t\\n\\r\\f', { a: '\t\n\r\f' }],
  ['\\uXXXX, both cases of hex', 'a=\\u0041\\u00e9\\u20AC', { a: 'A\u00e9\u20ac' }],
  ['other escapes drop the backslash', 'a=\\q\\z\\"\\\'', { a: 'qz"\'' }],
  ['escaped leading blank of a value', 'a=\\ b', { a: ' b' }],
  ['\\\\ is one backslash', 'a=\\\\u0041', { a: '\\u0041' }],
  ['escaped = in a key', 'a\\=b=c', { 'a=b': 'c' }],
  ['escaped : in a key', 'a\\:b:c', { 'a:b': 'c' }],
  ['escaped blank in a key', 'a\\ b c', { 'a b': 'c' }],
  ['\\u0020 in a key', 'k\\u0020ey=v', { 'k ey': 'v' }],
  ['a key ending in an escaped backslash', 'a\\\\=b', { 'a\\': 'b' }],
  ['\\t in a key is not a separator', 'key with\\ttab=v', { key: 'with\ttab=v' }],
  ['non-ASCII text kept', 'a=\u00e9', { a: '\u00e9' }],
  // continuations
  ['continuation drops leading blanks', 'a=b\\\n   c', { a: 'bc' }],
  ['continuation across \\r\\n', 'a=b\\\r\n  c', { a: 'bc' }],
  ['empty continuation line ends the line', 'a=b\\\n\n c=d', { a: 'b', c: 'd' }],
  ['even backslashes do not continue', 'a=b\\\\\nc=d', { a: 'b\\', c: 'd' }],
  ['three backslashes: one literal, one continues', 'a=b\\\\\\\n  c', { a: 'b\\c' }],
  ['backslash at end of input dropped', 'a=b\\', { a: 'b' }],
  ['two backslashes at end of input', 'a=b\\\\', { a: 'b\\' }],
  ['continuation at end of input', 'a=x\\\n', { a: 'x' }],
  ['# on a continuation line is text', 'a=b\\\n# x', { a: 'b# x' }],
  ['chained continuations', 'a=b\\\n  \\\n  c', { a: 'bc' }],
  ['continuation inside the key', 'a\\\n b=c', { ab: 'c' }],
  ['a line of only a backslash', '\\\n  a=b', { a: 'b' }],
  // line ends and duplicates
  ['\\r\\n, \\r and \\n end lines', 'a=b\r\nc=d\re=f\n', { a: 'b', c: 'd', e: 'f' }],
  ['last duplicate wins', 'a=1\na=2\nb=3\na=4', { a: '4', b: '3' }],
];

t.test('java.util.Properties rules', async (t) => {
  for (const [name, text, expected] of cases) {
    t.same(values(text), expected, `${name}: ${JSON.stringify(text)}`);
  }
});

t.test('line numbers', async (t) => {
  t.same(lines('a=1\n\n# c\n  b=2\r\nc=3\rd=4'), { a: 1, b: 4, c: 5, d: 6 }, 'blank, comment, \\r\\n and \\r lines count');
  t.same(lines('a=1\\\n  2\\\n  3\nb=4'), { a: 1, b: 4 }, 'a continued value starts on its first line');
  t.same(lines('x=1\na=1\nx=2'), { a: 2, x: 3 }, 'a duplicate reports the line of the winning definition');
  t.same([...parseProperties('x=1\na=1\nx=2').keys()], ['a', 'x'], 'map order follows the winning definitions');
  t.same(lines('\\\n\n  a=b'), { a: 3 }, 'a key starts where its first character is');
  t.same(lines('# c\\\na=b'), { a: 2 }, 'a comment ending in a backslash is one line');
});

t.test('malformed \\u escapes are errors with the line', async (t) => {
  const bad: [string, number, string][] = [
    ['a=\\u004', 1, '\\u004'],
    ['a=\\u00G1', 1, '\\u00G1'],
    ['a\\u12=b', 1, '\\u12'],
    ['x=1\ny=\\\n \\uZZZZ', 3, '\\uZZZZ'],
    ['x=1\n\n\ny=ok \\u12', 4, '\\u12'],
  ];
  for (const [text, line, shown] of bad) {
    t.throws(
      () => parseProperties(text),
      { name: 'PropertiesSyntaxError', line, message: `malformed \\uXXXX escape "${shown}": expected 4 hex digits` },
      JSON.stringify(text),
    );
  }
  try {
    parseProperties('a=\\u');
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof PropertiesSyntaxError, 'typed error');
  }
});

t.test('empty and comment-only text', async (t) => {
  t.equal(parseProperties('').size, 0);
  t.equal(parseProperties('# only\n! comments\n   \n').size, 0);
});
