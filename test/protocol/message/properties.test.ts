import t from 'tap';
import {
  MAX_PROPERTIES_BYTES,
  MessageProperty,
  appendProperty,
  checkPropertiesSize,
  getProperty,
  parseProperties,
  propertiesByteLength,
  serializeProperties,
} from '../../../protocol/message/index.js';

const S = '\u0001';
const P = '\u0002';

t.test('parse follows Java rules', async (t) => {
  t.strictSame([...parseProperties(`TAGS${S}TagA${P}KEYS${S}k1 k2`)], [['TAGS', 'TagA'], ['KEYS', 'k1 k2']]);
  t.strictSame([...parseProperties(`A${S}1${P}`)], [['A', '1']], 'trailing separator');
  t.equal(parseProperties('').size, 0);
  t.strictSame([...parseProperties(`A${S}${P}B${S}2`)], [['B', '2']], 'empty value dropped');
  t.strictSame([...parseProperties(`${S}x${P}B${S}2`)], [['B', '2']], 'empty name dropped');
  t.strictSame([...parseProperties(`A1${P}B${S}2`)], [['B', '2']], 'item without 0x01 dropped');
  t.strictSame([...parseProperties(`ab${P}${P}B${S}2${P}${P}`)], [['B', '2']], 'short and empty items dropped');
  t.strictSame([...parseProperties(`A${S}x${S}y`)], [['A', `x${S}y`]], 'value keeps later 0x01');
  t.strictSame([...parseProperties(`A${S}1${P}A${S}2`)], [['A', '2']], 'last duplicate wins');
  t.strictSame([...parseProperties(`k${S}héllo 你好 🚀`)], [['k', 'héllo 你好 🚀']]);
});

t.test('getProperty agrees with parse', async (t) => {
  const text = `A${S}1${P}TAGS${S}x${P}A${S}2${P}B${S}${P}`;
  t.equal(getProperty(text, 'A'), '2');
  t.equal(getProperty(text, 'TAGS'), 'x');
  t.equal(getProperty(text, 'B'), undefined, 'empty value is absent');
  t.equal(getProperty(text, 'C'), undefined);
});

t.test('getProperty agrees with parse on random texts: separators anywhere, names that prefix others, duplicates', async (t) => {
  let seed = 5;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 12) % n;
  };
  const alphabet = ['A', 'AB', 'B', S, S, P, P, 'x', 'é'];
  const names = ['A', 'AB', 'B', 'ABx', 'x', 'é', '', `A${S}`, `A${P}`];
  let found = 0;
  for (let i = 0; i < 5000; i++) {
    let text = '';
    for (let k = rand(14); k > 0; k--) text += alphabet[rand(alphabet.length)];
    const map = parseProperties(text);
    for (const name of names) {
      const got = getProperty(text, name);
      if (got !== map.get(name)) {
        t.fail(`${JSON.stringify(text)} ${JSON.stringify(name)}: ${JSON.stringify(got)}, parse gives ${JSON.stringify(map.get(name))}`);
        return;
      }
      if (got !== undefined) found++;
    }
  }
  t.ok(found > 500, `45,000 lookups agree (${found} found a value)`);
});

t.test('serialize, append and round trip', async (t) => {
  const props = new Map([['TAGS', 'TagA'], ['greeting', 'héllo 🚀']]);
  const text = serializeProperties(props);
  t.equal(text, `TAGS${S}TagA${P}greeting${S}héllo 🚀`, 'no trailing separator');
  t.strictSame(parseProperties(text), props);
  t.equal(serializeProperties({ A: '1' }), `A${S}1`);
  t.equal(serializeProperties([['A', '1'], ['B', '2']]), `A${S}1${P}B${S}2`);
  t.equal(serializeProperties([]), '');
  t.equal(appendProperty('', 'CLUSTER', 'c'), `CLUSTER${S}c`);
  t.equal(appendProperty(`A${S}1`, 'CLUSTER', 'c'), `A${S}1${P}CLUSTER${S}c`);
  t.equal(appendProperty(`A${S}1${P}`, 'CLUSTER', 'c'), `A${S}1${P}CLUSTER${S}c`);
  t.equal(getProperty(appendProperty(`A${S}1`, 'A', '9'), 'A'), '9', 'appended value wins');
});

t.test('refuses what the format cannot carry', async (t) => {
  t.throws(() => serializeProperties({ '': 'x' }), { code: 'BAD_PROPERTY' });
  t.throws(() => serializeProperties({ [`a${S}b`]: 'x' }), { code: 'BAD_PROPERTY' });
  t.throws(() => serializeProperties({ a: '' }), { code: 'BAD_PROPERTY' });
  t.throws(() => serializeProperties({ a: `x${P}y` }), { code: 'BAD_PROPERTY' });
  t.throws(() => appendProperty('', 'a', ''), { code: 'BAD_PROPERTY' });
});

t.test('size limit counts UTF-8 bytes', async (t) => {
  t.equal(MAX_PROPERTIES_BYTES, 32767);
  t.equal(propertiesByteLength('é'), 2);
  const fits = `k${S}` + 'x'.repeat(32767 - 2);
  t.equal(checkPropertiesSize(fits), undefined);
  t.match(checkPropertiesSize(fits + 'x'), /32768 bytes.*32767/);
  // 2-byte chars: 16383 of them plus the 2-byte prefix is 32768 bytes though only 16385 chars
  t.match(checkPropertiesSize(`k${S}` + 'é'.repeat(16383)), /32768 bytes/);
});

t.test('well-known names are spelled as on the wire', async (t) => {
  t.equal(MessageProperty.UNIQ_KEY, 'UNIQ_KEY');
  t.equal(MessageProperty.WAIT, 'WAIT');
  t.equal(MessageProperty.DELAY, 'DELAY');
  t.equal(MessageProperty.TRAN_MSG, 'TRAN_MSG');
  t.equal(MessageProperty.REAL_QID, 'REAL_QID');
  t.equal(MessageProperty.TRANSACTION_ID, '__transactionId__');
  t.equal(MessageProperty.SHARDING_KEY, '__SHARDINGKEY');
  t.equal(MessageProperty.FIRST_POP_TIME, '1ST_POP_TIME');
});
