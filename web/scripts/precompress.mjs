// Writes F.gz and F.br beside every compressible file of a built directory (at least 1 KiB,
// and only when the coding is smaller), so that brigade serves them with Content-Encoding
// without compressing anything at run time (src/server/static_files.hpp).
// Usage: node scripts/precompress.mjs DIR
import { readdirSync, readFileSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const MIN_BYTES = 1024; // kMinCompressBytes, src/http/compression.hpp
const TYPES = /\.(html|js|mjs|css|svg|json|webmanifest|txt|map)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) walk(path);
    else if (info.isFile() && TYPES.test(name)) precompress(path, info.size);
  }
}

function precompress(path, size) {
  for (const suffix of ['.gz', '.br']) {
    try {
      unlinkSync(path + suffix); // a coding of an older build
    } catch {}
  }
  if (size < MIN_BYTES) return;
  const bytes = readFileSync(path);
  const gz = gzipSync(bytes, { level: 9 });
  if (gz.length < bytes.length) writeFileSync(path + '.gz', gz);
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
  if (br.length < bytes.length) writeFileSync(path + '.br', br);
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/precompress.mjs DIR');
  process.exit(2);
}
walk(dir);
