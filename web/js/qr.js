// qr - a QR code encoder (ISO/IEC 18004) for the trust page: byte mode,
// versions 1 to 10 (up to 213 bytes at level M), error correction L, M, Q
// or H, Reed-Solomon over GF(256), the mask of the lowest penalty, and an
// SVG renderer with the quiet zone. No DOM is needed to encode (the tests
// run qrEncode in node); qrSvg needs a document.

// Per level, for versions 1..10: error correction codewords per block, and
// the number of blocks (the standard's table 9).
const EC_PER_BLOCK = {
  L: [7, 10, 15, 20, 26, 18, 20, 24, 30, 18],
  M: [10, 16, 26, 18, 24, 16, 18, 22, 22, 26],
  Q: [13, 22, 18, 26, 18, 24, 18, 22, 20, 24],
  H: [17, 28, 22, 16, 22, 28, 26, 26, 24, 28],
};
const BLOCKS = {
  L: [1, 1, 1, 1, 1, 2, 2, 2, 2, 4],
  M: [1, 1, 1, 2, 2, 4, 4, 4, 5, 5],
  Q: [1, 1, 2, 2, 4, 4, 6, 6, 8, 8],
  H: [1, 1, 2, 4, 4, 4, 5, 6, 8, 8],
};
const LEVEL_BITS = { L: 1, M: 0, Q: 3, H: 2 }; // in the format information
export const QR_MAX_VERSION = 10;

// ------------------------------------------------------------ GF(256)
// Arithmetic modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d), through tables of
// powers of the generator 2 and their logarithms.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = EXP[i + 255] = x;
  LOG[x] = i;
  x = (x << 1) ^ (x & 0x80 ? 0x11d : 0);
}
const mul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

// The generator polynomial (x - 2^0)(x - 2^1)...(x - 2^(n-1)), highest
// coefficient first (it is 1 and left out): n coefficients.
function generator(n) {
  let g = [1];
  for (let i = 0; i < n; i++) {
    const next = new Array(g.length + 1).fill(0);
    g.forEach((c, j) => {
      next[j] ^= c;
      next[j + 1] ^= mul(c, EXP[i]);
    });
    g = next;
  }
  return g.slice(1);
}

// The n error correction codewords of data: the remainder of data(x) * x^n
// divided by the generator.
function reedSolomon(data, n) {
  const g = generator(n);
  const rest = new Array(n).fill(0);
  for (const byte of data) {
    const factor = byte ^ rest.shift();
    rest.push(0);
    for (let i = 0; i < n; i++) rest[i] ^= mul(g[i], factor);
  }
  return rest;
}

// ------------------------------------------------------------ the grid
// A square of modules: dark (true) or light, and which ones are function
// patterns (finders, timing, alignment, format and version information)
// that data and masks leave alone.
class Grid {
  constructor(version, level) {
    this.version = version;
    this.level = level;
    this.size = 17 + 4 * version;
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.drawFunctionPatterns();
  }

  set(row, col, dark) {
    this.dark[row][col] = dark;
    this.fixed[row][col] = true;
  }

  drawFunctionPatterns() {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      this.set(6, i, i % 2 === 0); // timing patterns
      this.set(i, 6, i % 2 === 0);
    }
    this.finder(3, 3);
    this.finder(3, n - 4);
    this.finder(n - 4, 3);
    const centres = alignmentCentres(this.version);
    for (const r of centres) {
      for (const c of centres) {
        const onFinder = (r === 6 && c === 6) || (r === 6 && c === n - 7) || (r === n - 7 && c === 6);
        if (!onFinder) this.alignment(r, c);
      }
    }
    // Reserved now, written by drawFormat once the mask is known.
    this.drawFormat(0);
    this.drawVersion();
  }

  // A 7x7 finder with its light separator, centred on (row, col).
  finder(row, col) {
    for (let dr = -4; dr <= 4; dr++) {
      for (let dc = -4; dc <= 4; dc++) {
        const r = row + dr;
        const c = col + dc;
        if (r < 0 || c < 0 || r >= this.size || c >= this.size) continue;
        const ring = Math.max(Math.abs(dr), Math.abs(dc));
        this.set(r, c, ring !== 2 && ring !== 4);
      }
    }
  }

  alignment(row, col) {
    for (let dr = -2; dr <= 2; dr++) {
      for (let dc = -2; dc <= 2; dc++) this.set(row + dr, col + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }

  // The 15 bits of level and mask, twice: around the top left finder, and
  // split below the top right and beside the bottom left one.
  drawFormat(mask) {
    const bits = formatBits(this.level, mask);
    const bit = (i) => ((bits >> i) & 1) === 1;
    const n = this.size;
    for (let i = 0; i <= 5; i++) this.set(i, 8, bit(i));
    this.set(7, 8, bit(6));
    this.set(8, 8, bit(7));
    this.set(8, 7, bit(8));
    for (let i = 9; i < 15; i++) this.set(8, 14 - i, bit(i));
    for (let i = 0; i < 8; i++) this.set(8, n - 1 - i, bit(i));
    for (let i = 8; i < 15; i++) this.set(n - 15 + i, 8, bit(i));
    this.set(n - 8, 8, true); // the dark module
  }

  // Versions 7 and up: 18 bits of version number, beside the bottom left
  // and above the top right finder.
  drawVersion() {
    if (this.version < 7) return;
    const bits = (this.version << 12) | bchRemainder(this.version, 0x1f25, 12);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >> i) & 1) === 1;
      const a = this.size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      this.set(a, b, dark);
      this.set(b, a, dark);
    }
  }

  // The free modules, in the order the codewords' bits fill them: pairs of
  // columns from the right, going up and down in turn, column 6 (timing)
  // skipped; right module of each pair first.
  *dataModules() {
    let upward = true;
    for (let right = this.size - 1; right > 0; right -= 2) {
      if (right === 6) right = 5;
      for (let k = 0; k < this.size; k++) {
        const row = upward ? this.size - 1 - k : k;
        for (const col of [right, right - 1]) {
          if (!this.fixed[row][col]) yield [row, col];
        }
      }
      upward = !upward;
    }
  }
}

// Centres of the alignment patterns on each axis: 6, then evenly (an even
// step) up to size - 7.
function alignmentCentres(version) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const last = 4 * version + 10;
  const step = Math.ceil((last - 6) / (count - 1) / 2) * 2;
  const out = [6];
  for (let i = count - 2; i >= 0; i--) out.push(last - i * step);
  return out;
}

// value * 2^bits modulo the polynomial poly (BCH codes of format and version).
function bchRemainder(value, poly, bits) {
  let r = value << bits;
  const top = Math.floor(Math.log2(poly));
  for (let i = Math.floor(Math.log2(r || 1)); i >= top; i--) {
    if ((r >> i) & 1) r ^= poly << (i - top);
  }
  return r;
}

function formatBits(level, mask) {
  const data = (LEVEL_BITS[level] << 3) | mask;
  return ((data << 10) | bchRemainder(data, 0x537, 10)) ^ 0x5412;
}

// ------------------------------------------------------------ masks
const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

function applyMask(grid, mask) {
  for (let r = 0; r < grid.size; r++) {
    for (let c = 0; c < grid.size; c++) {
      if (!grid.fixed[r][c] && MASKS[mask](r, c)) grid.dark[r][c] = !grid.dark[r][c];
    }
  }
}

// The standard's penalty of a finished symbol (lower is better): runs of
// five or more of one colour, 2x2 blocks of one colour, finder-like
// 1:1:3:1:1 patterns with four light modules on one side, and imbalance
// of dark and light.
export function qrPenalty(dark) {
  const n = dark.length;
  let score = 0;
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(dark[i]);
    lines.push(dark.map((row) => row[i]));
  }
  const finderLike = [/10111010000/g, /00001011101/g];
  for (const line of lines) {
    let run = 1;
    for (let i = 1; i <= n; i++) {
      if (i < n && line[i] === line[i - 1]) {
        run++;
      } else {
        if (run >= 5) score += run - 2;
        run = 1;
      }
    }
    const text = line.map((d) => (d ? '1' : '0')).join('');
    for (const re of finderLike) score += 40 * (text.match(re) || []).length;
  }
  let darkCount = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (dark[r][c]) darkCount++;
      if (r + 1 < n && c + 1 < n) {
        const d = dark[r][c];
        if (dark[r][c + 1] === d && dark[r + 1][c] === d && dark[r + 1][c + 1] === d) score += 3;
      }
    }
  }
  score += 10 * Math.floor(Math.abs((darkCount * 100) / (n * n) - 50) / 5);
  return score;
}

// ------------------------------------------------------------ encoding
function dataCapacity(version, level) {
  let free = 0;
  const grid = new Grid(version, level);
  for (const _ of grid.dataModules()) free++;
  const total = Math.floor(free / 8);
  return { total, data: total - EC_PER_BLOCK[level][version - 1] * BLOCKS[level][version - 1] };
}

class Bits {
  constructor() {
    this.bits = [];
  }
  put(value, count) {
    for (let i = count - 1; i >= 0; i--) this.bits.push((value >> i) & 1);
  }
}

// The data codewords of bytes in byte mode, with terminator and padding.
function dataCodewords(bytes, version, capacity) {
  const b = new Bits();
  b.put(0b0100, 4);
  b.put(bytes.length, version < 10 ? 8 : 16);
  for (const byte of bytes) b.put(byte, 8);
  b.put(0, Math.min(4, capacity * 8 - b.bits.length));
  b.put(0, (8 - (b.bits.length % 8)) % 8);
  const out = [];
  for (let i = 0; i < b.bits.length; i += 8) out.push(parseInt(b.bits.slice(i, i + 8).join(''), 2));
  for (let pad = 0; out.length < capacity; pad ^= 1) out.push(pad ? 0x11 : 0xec);
  return out;
}

// Data split into blocks (the shorter ones first), each with its error
// correction, then both interleaved codeword by codeword.
function interleave(data, version, level) {
  const count = BLOCKS[level][version - 1];
  const ecLen = EC_PER_BLOCK[level][version - 1];
  const shortLen = Math.floor(data.length / count);
  const longCount = data.length % count;
  const blocks = [];
  for (let i = 0, at = 0; i < count; i++) {
    const len = shortLen + (i >= count - longCount ? 1 : 0);
    const block = data.slice(at, at + len);
    at += len;
    blocks.push({ data: block, ec: reedSolomon(block, ecLen) });
  }
  const out = [];
  for (let i = 0; i <= shortLen; i++) for (const bl of blocks) if (i < bl.data.length) out.push(bl.data[i]);
  for (let i = 0; i < ecLen; i++) for (const bl of blocks) out.push(bl.ec[i]);
  return out;
}

/**
 * Encodes text (a string, as UTF-8, or a Uint8Array) into a QR code.
 * Options: level 'L' | 'M' (default) | 'Q' | 'H'; minVersion (default 1):
 * the smallest version that holds the data from there is used; mask 0..7
 * (default: the lowest penalty). Returns {version, level, mask, size,
 * modules}: modules[row][col] is true for dark. Throws a RangeError when
 * the data does not fit version 10.
 */
export function qrEncode(text, { level = 'M', minVersion = 1, mask } = {}) {
  if (!EC_PER_BLOCK[level]) throw new RangeError(`QR level must be L, M, Q or H, not ${level}`);
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  let version = Math.max(1, minVersion);
  let capacity;
  for (; version <= QR_MAX_VERSION; version++) {
    capacity = dataCapacity(version, level);
    const needed = 4 + (version < 10 ? 8 : 16) + 8 * bytes.length;
    if (needed <= capacity.data * 8) break;
  }
  if (version > QR_MAX_VERSION) throw new RangeError(`${bytes.length} bytes do not fit a version ${QR_MAX_VERSION} QR code at level ${level}`);
  const codewords = interleave(dataCodewords(bytes, version, capacity.data), version, level);
  const grid = new Grid(version, level);
  let i = 0;
  for (const [r, c] of grid.dataModules()) {
    const byte = codewords[i >> 3];
    grid.dark[r][c] = byte !== undefined && ((byte >> (7 - (i & 7))) & 1) === 1;
    i++;
  }
  let best = mask;
  if (best === undefined) {
    let lowest = Infinity;
    for (let m = 0; m < 8; m++) {
      applyMask(grid, m);
      grid.drawFormat(m);
      const p = qrPenalty(grid.dark);
      if (p < lowest) [lowest, best] = [p, m];
      applyMask(grid, m); // undone: a mask is its own inverse
    }
  }
  applyMask(grid, best);
  grid.drawFormat(best);
  return { version, level, mask: best, size: grid.size, modules: grid.dark };
}

// The dark modules as one SVG path, one unit per module, offset by border.
export function qrPath(modules, border = 4) {
  let d = '';
  modules.forEach((row, r) => row.forEach((dark, c) => {
    if (dark) d += `M${c + border} ${r + border}h1v1h-1z`;
  }));
  return d;
}

/**
 * An <svg> element of a qrEncode result, dark on white whatever the page's
 * colours (scanners want that), with a quiet zone of `border` modules
 * (the standard asks for 4), `scale` pixels per module (CSS may shrink it).
 */
export function qrSvg(code, { border = 4, scale = 6, label = '' } = {}) {
  const NS = 'http://www.w3.org/2000/svg';
  const side = code.size + 2 * border;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${side} ${side}`);
  svg.setAttribute('width', side * scale);
  svg.setAttribute('height', side * scale);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('role', 'img');
  if (label) svg.setAttribute('aria-label', label);
  const bg = document.createElementNS(NS, 'rect');
  bg.setAttribute('width', side);
  bg.setAttribute('height', side);
  bg.setAttribute('fill', '#fff');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', qrPath(code.modules, border));
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}
