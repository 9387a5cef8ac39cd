#!/usr/bin/env node
// The QR encoder of the trust page (web/js/qr.js), checked by a decoder that
// is not ours: each code is drawn into a PNG (a writer of a dozen lines
// below, with node's zlib) and read back with Debian's zbarimg (zbar-tools);
// the text it finds must be the text encoded. Strings short and long, URLs
// of the HTTPS address (host names, IPv4, IPv6), UTF-8; every level, every
// mask, versions 1 to 10, and the byte capacities of the standard's table.
//
//   node tests/web/test_qr.mjs [-k SUBSTRING]
//
// Prints "ok   <case>" or "FAIL <case>: <why>" and ends with
// "qr: N passed, M failed"; exit status 1 if M > 0.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// web/js/qr.js is an ES module with a .js name and no package.json says so:
// imported from its text.
const source = readFileSync(join(REPO, 'web/js/qr.js'), 'utf8');
const qr = await import('data:text/javascript;base64,' + Buffer.from(source).toString('base64'));

const pattern = process.argv[2] === '-k' ? process.argv[3] || '' : '';
const dir = mkdtempSync(join(tmpdir(), 'lanchat-qr-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// ------------------------------------------------------------ PNG
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
// An 8-bit greyscale PNG of the modules, `scale` pixels each, with a quiet
// zone of `border` modules.
function png(modules, scale = 4, border = 4) {
  const side = (modules.length + 2 * border) * scale;
  const rows = Buffer.alloc(side * (side + 1), 0xff);
  for (let y = 0; y < side; y++) {
    rows[y * (side + 1)] = 0; // filter: none
    for (let x = 0; x < side; x++) {
      const r = Math.floor(y / scale) - border;
      const c = Math.floor(x / scale) - border;
      if (modules[r]?.[c]) rows[y * (side + 1) + 1 + x] = 0;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 0, 0, 0, 0], 8); // depth 8, greyscale, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

// What zbarimg reads in the PNG: the symbol's bytes (--raw: no guessing of
// character sets), as UTF-8; null when it finds no QR code.
let shots = 0;
function decode(modules) {
  const file = join(dir, `${++shots}.png`);
  writeFileSync(file, png(modules));
  try {
    const out = execFileSync('zbarimg', ['--raw', '-q', '--nodbus', '-Sdisable', '-Sqrcode.enable', file],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    return out.toString('utf8').replace(/\n$/, '');
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('no zbarimg: tools/deps.sh test installs zbar-tools');
    return null; // exit status 4: nothing found
  }
}

// ------------------------------------------------------------ cases
let passed = 0;
let failed = 0;
function check(name, fn) {
  if (pattern && !name.includes(pattern)) return;
  try {
    fn();
    console.log(`ok   ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    failed++;
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function roundTrip(text, options) {
  const code = qr.qrEncode(text, options);
  const got = decode(code.modules);
  assert(got === text, `version ${code.version}-${code.level} mask ${code.mask}: zbarimg read ${JSON.stringify(got)}`);
  return code;
}

const texts = {
  short: 'a',
  word: 'lanchat',
  mdns: 'https://lanchat-pi.local:8443/',
  ipv4: 'https://192.168.178.42:8443/',
  ipv6: 'https://[fd12:3456:789a:1::42]:8443/',
  ipv6_link_local: 'https://[fe80::1c2b:3aff:fe4d:5e6f%25wlan0]:8443/',
  utf8: 'Grüße, 世界 — ça va? 👋',
  fingerprint: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
  long: 'https://lanchat-pi.local:8443/?' + 'x'.repeat(100),
};
for (const [what, text] of Object.entries(texts)) {
  for (const level of ['L', 'M', 'Q', 'H']) {
    if (what === 'long' && level === 'H') continue; // 131 bytes do not fit 10-H (119)
    check(`${what} at level ${level}`, () => roundTrip(text, { level }));
  }
}

// Each version from 1 to 10 (7 and up carry version information), the
// same short URL made to use it.
for (let v = 1; v <= 10; v++) {
  check(`mdns url in version ${v}`, () => {
    const code = roundTrip(texts.mdns.slice(0, Math.min(texts.mdns.length, 14)), { level: 'M', minVersion: v });
    assert(code.version === v && code.size === 17 + 4 * v, `got version ${code.version}, size ${code.size}`);
  });
}

// Every mask, chosen by hand, at versions of one and of several blocks.
for (let mask = 0; mask < 8; mask++) {
  for (const v of [1, 8]) {
    check(`mask ${mask} in version ${v}`, () => {
      const code = roundTrip(texts.ipv6, { level: 'Q', minVersion: v, mask });
      assert(code.mask === mask, `mask ${code.mask}`);
    });
  }
}

// Byte capacity (the standard's table 7): the largest text of each level
// fits version 1 and version 10, one byte more does not.
const CAPACITY = { L: [17, 271], M: [14, 213], Q: [11, 151], H: [7, 119] };
for (const [level, [v1, v10]] of Object.entries(CAPACITY)) {
  check(`capacity of level ${level}`, () => {
    assert(qr.qrEncode('x'.repeat(v1), { level }).version === 1, `${v1} bytes do not fit version 1-${level}`);
    assert(qr.qrEncode('x'.repeat(v1 + 1), { level }).version === 2, `${v1 + 1} bytes fit version 1-${level}`);
    roundTrip('y'.repeat(v10), { level });
    let threw = false;
    try {
      qr.qrEncode('x'.repeat(v10 + 1), { level });
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, `${v10 + 1} bytes at level ${level}: no RangeError`);
  });
}

// The automatic mask is the one of lowest penalty.
check('automatic mask has the lowest penalty', () => {
  const auto = qr.qrEncode(texts.mdns);
  for (let mask = 0; mask < 8; mask++) {
    const p = qr.qrPenalty(qr.qrEncode(texts.mdns, { mask }).modules);
    assert(qr.qrPenalty(auto.modules) <= p, `mask ${auto.mask} scores more than mask ${mask} (${p})`);
  }
});

console.log(`qr: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
