// Draws the panels' app icons (web/public/icons): a rounded square in the brand colour
// (--brand, src/shared/styles.css) with a white "B", as an SVG and as 192 and 512 pixel
// PNGs, with no tool but node (the PNGs are encoded by hand with zlib). The files are
// kept in the tree; run this again only to change the icon.
// Usage: node scripts/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const BRAND = [0xd3, 0x43, 0x26];
const RADIUS = 0.22; // corner, as a fraction of the side

// The "B" in unit coordinates: a stem and two bowls, each bowl a rectangle closed by a
// half disc, minus its counter (the same shape, inset by the stroke).
const STROKE = 0.095;
const STEM = { x0: 0.33, x1: 0.33 + STROKE, y0: 0.23, y1: 0.77 };
const BOWLS = [
  { x0: 0.33, cx: 0.53, y0: 0.23, y1: 0.5 + STROKE / 2 },
  { x0: 0.33, cx: 0.555, y0: 0.5 - STROKE / 2, y1: 0.77 },
];

function inBowl(b, x, y, inset) {
  const y0 = b.y0 + inset;
  const y1 = b.y1 - inset;
  if (y < y0 || y > y1) return false;
  if (x >= b.x0 + inset && x <= b.cx) return true;
  const r = (y1 - y0) / 2;
  const cy = (y0 + y1) / 2;
  return x > b.cx && (x - b.cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function inGlyph(x, y) {
  if (x >= STEM.x0 && x <= STEM.x1 && y >= STEM.y0 && y <= STEM.y1) return true;
  return BOWLS.some((b) => inBowl(b, x, y, 0) && !inBowl(b, x, y, STROKE));
}

function inSquare(x, y) {
  const dx = Math.max(RADIUS - x, 0, x - (1 - RADIUS));
  const dy = Math.max(RADIUS - y, 0, y - (1 - RADIUS));
  return dx * dx + dy * dy <= RADIUS * RADIUS;
}

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
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function png(size) {
  const S = 4; // samples per pixel side, for smooth edges
  const rows = Buffer.alloc(size * (1 + size * 4));
  for (let py = 0; py < size; py++) {
    const row = py * (1 + size * 4);
    rows[row] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      let cover = 0;
      let white = 0;
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const x = (px + (sx + 0.5) / S) / size;
          const y = (py + (sy + 0.5) / S) / size;
          if (!inSquare(x, y)) continue;
          cover++;
          if (inGlyph(x, y)) white++;
        }
      const i = row + 1 + px * 4;
      const w = cover ? white / cover : 0;
      for (let c = 0; c < 3; c++) rows[i + c] = Math.round(BRAND[c] * (1 - w) + 255 * w);
      rows[i + 3] = Math.round((255 * cover) / (S * S));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function svg() {
  const u = (v) => +(v * 512).toFixed(1);
  const hex = '#' + BRAND.map((c) => c.toString(16).padStart(2, '0')).join('');
  const bowl = (b, inset) => {
    const y0 = u(b.y0 + inset);
    const y1 = u(b.y1 - inset);
    const r = +((y1 - y0) / 2).toFixed(1);
    return `M${u(b.x0 + inset)} ${y0}H${u(b.cx)}A${r} ${r} 0 0 1 ${u(b.cx)} ${y1}H${u(b.x0 + inset)}Z`;
  };
  const glyph = [`M${u(STEM.x0)} ${u(STEM.y0)}H${u(STEM.x1)}V${u(STEM.y1)}H${u(STEM.x0)}Z`, ...BOWLS.map((b) => bowl(b, 0))].join('');
  const counters = BOWLS.map((b) => bowl(b, STROKE)).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="${u(RADIUS)}" fill="${hex}"/><path fill="#fff" d="${glyph}"/><path fill="${hex}" d="${counters}"/></svg>\n`;
}

writeFileSync(join(out, 'brigade.svg'), svg());
for (const size of [192, 512]) writeFileSync(join(out, `brigade-${size}.png`), png(size));
console.log(`icons written to ${out}`);
