import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileIpFilter, IP_FILTER_CLOSE_CODES } from './ip-filter.js';
import { EdgeError } from '../errors.js';

const filter = (whitelist: string[], blacklist: string[] = []) => compileIpFilter({ whitelist, blacklist, keyPath: 'channels[0]' });

test('empty lists allow everything and mark the filter inactive', () => {
  const f = filter([]);
  assert.equal(f.active, false);
  for (const a of ['1.2.3.4', '::1', '::ffff:10.0.0.1', 'not-an-ip']) assert.equal(f.check(a), 'allow');
});

test('whitelist of single IPv4 addresses and CIDR networks', () => {
  const f = filter(['192.0.2.7', '10.0.0.0/8', '198.51.100.0/24']);
  assert.equal(f.active, true);
  assert.equal(f.check('192.0.2.7'), 'allow');
  assert.equal(f.check('192.0.2.8'), 'whitelist');
  assert.equal(f.check('10.255.255.255'), 'allow');
  assert.equal(f.check('11.0.0.0'), 'whitelist');
  assert.equal(f.check('198.51.100.0'), 'allow');
  assert.equal(f.check('198.51.101.0'), 'whitelist');
  // Repeated checks come from the verdict cache and must agree.
  for (let i = 0; i < 3; i++) assert.equal(f.check('10.1.2.3'), 'allow');
});

test('host bits in a CIDR entry are ignored and /0 and /32 work', () => {
  assert.equal(filter(['10.1.2.3/16']).check('10.1.200.200'), 'allow');
  assert.equal(filter(['0.0.0.0/0']).check('203.0.113.9'), 'allow');
  assert.equal(filter(['0.0.0.0/0']).check('2001:db8::1'), 'whitelist');
  assert.equal(filter(['203.0.113.9/32']).check('203.0.113.10'), 'whitelist');
});

test('IPv6 addresses and networks', () => {
  const f = filter(['2001:db8::/32', '::1']);
  assert.equal(f.check('2001:db8:ffff::1'), 'allow');
  assert.equal(f.check('2001:db9::1'), 'whitelist');
  assert.equal(f.check('::1'), 'allow');
  assert.equal(f.check('0:0:0:0:0:0:0:1'), 'allow');
  assert.equal(f.check('fe80::1%eth0'), 'whitelist');
  assert.equal(filter(['fe80::/10']).check('fe80::1%eth0'), 'allow');
});

test('IPv4-mapped peers match IPv4 entries, and mapped entries match plain IPv4', () => {
  const v4 = filter(['127.0.0.0/8']);
  assert.equal(v4.check('::ffff:127.0.0.2'), 'allow');
  assert.equal(v4.check('::FFFF:127.0.0.2'), 'allow');
  assert.equal(v4.check('0:0:0:0:0:ffff:7f00:2'), 'allow');
  assert.equal(v4.check('::ffff:128.0.0.1'), 'whitelist');

  const mapped = filter(['::ffff:192.0.2.1', '::ffff:10.0.0.0/104']);
  assert.equal(mapped.check('192.0.2.1'), 'allow');
  assert.equal(mapped.check('::ffff:192.0.2.1'), 'allow');
  assert.equal(mapped.check('192.0.2.2'), 'whitelist');
  assert.equal(mapped.check('10.9.8.7'), 'allow');
  assert.equal(mapped.check('11.0.0.1'), 'whitelist');

  // An IPv6 range containing all of ::ffff:0:0/96 covers every IPv4 peer.
  const all6 = filter(['::/0']);
  assert.equal(all6.check('203.0.113.1'), 'allow');
  assert.equal(all6.check('2001:db8::1'), 'allow');
});

test('blacklist drops, and wins over the whitelist', () => {
  const f = filter(['10.0.0.0/8', '2001:db8::/32'], ['10.66.0.0/16', '2001:db8:bad::/48', '::ffff:192.0.2.66']);
  assert.equal(f.check('10.1.1.1'), 'allow');
  assert.equal(f.check('10.66.1.1'), 'blacklist');
  assert.equal(f.check('::ffff:10.66.1.1'), 'blacklist');
  assert.equal(f.check('2001:db8:bad::5'), 'blacklist');
  assert.equal(f.check('2001:db8:900d::5'), 'allow');
  // Not whitelisted and blacklisted: the blacklist is the reason reported.
  assert.equal(f.check('192.0.2.66'), 'blacklist');
  assert.equal(f.check('192.0.2.67'), 'whitelist');

  const onlyBlack = filter([], ['198.51.100.0/24']);
  assert.equal(onlyBlack.active, true);
  assert.equal(onlyBlack.check('198.51.100.200'), 'blacklist');
  assert.equal(onlyBlack.check('198.51.99.1'), 'allow');
  assert.equal(onlyBlack.check('::1'), 'allow');
});

test('an unparsable peer matches nothing: dropped only when a whitelist exists', () => {
  assert.equal(filter(['10.0.0.0/8']).check('bogus'), 'whitelist');
  assert.equal(filter([], ['0.0.0.0/0', '::/0']).check('bogus'), 'allow');
  assert.equal(filter(['10.0.0.0/8']).check('10.0.0'), 'whitelist');
  assert.equal(filter(['10.0.0.0/8']).check('10.0.0.1.5'), 'whitelist');
});

test('invalid entries throw EDGE_CONFIG_INVALID naming the list, index and entry', () => {
  const cases: [string, RegExp][] = [
    ['10.0.0.300', /^channels\[0\]\.ip_whitelist\[2\]: "10\.0\.0\.300" is not an IP address or CIDR network$/],
    ['10.1', /four decimal parts/],
    ['10.0.0.0/33', /0\.\.32/],
    ['2001:db8::/129', /0\.\.128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['example.com', /"example\.com" is not an IP address/],
    ['', /"" is not an IP address/],
    [' 10.0.0.1', /" 10\.0\.0\.1" is not/],
  ];
  for (const [bad, re] of cases) {
    assert.throws(
      () => filter(['10.0.0.1', '::1', bad]),
      (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && e.reason.startsWith('channels[0].ip_whitelist[2]: ') && re.test(e.reason),
      bad,
    );
  }
  assert.throws(
    () => compileIpFilter({ whitelist: [], blacklist: ['1.2.3.4', 'nope'], keyPath: 'channels[3]' }),
    (e: unknown) => e instanceof EdgeError && e.reason === 'channels[3].ip_blacklist[1]: "nope" is not an IP address or CIDR network',
  );
});

test('the verdict cache stays bounded and correct past its size', () => {
  const f = compileIpFilter({ whitelist: ['10.0.0.0/24'], blacklist: [], keyPath: 'channels[0]', cacheSize: 8 });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 64; i++) assert.equal(f.check(`10.0.${i % 2}.${i}`), i % 2 === 0 ? 'allow' : 'whitelist');
  }
});

test('suggested close codes', () => {
  assert.deepEqual(IP_FILTER_CLOSE_CODES, { whitelist: 16, blacklist: 20 });
});
