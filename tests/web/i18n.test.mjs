// Korean and English in the panels (web/src/shared/i18n.tsx): no text bypasses the message
// catalogs, and every Korean catalog is complete and actually Korean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { findUntranslated, panelSources } from '../../web/scripts/check-i18n.mjs';

const web = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../web');
const ts = createRequire(join(web, 'package.json'))('typescript');

test('the checker finds text outside the catalogs and nothing else', () => {
  const source = `
    export function X({ busy, m, s }) {
      setError('Could not load');
      notifyIfHidden(m.title, m.body, 'offer-12');
      return (
        <div className="card" data-testid="x" title="Close">
          Loading
          <Brand />
          {busy ? 'Saving…' : m.save}
          {s === 'pending' && <b>{m.pending}</b>}
          {\`Order #\${s}\`}
          <Field label={m.name} hint={busy && 'At least 8'} />
          <span aria-hidden="true">·</span>
          Brigade
        </div>
      );
    }`;
  const texts = findUntranslated(source, 'x.tsx').map((f) => f.text);
  assert.deepEqual(texts.sort(), ['At least 8', 'Close', 'Could not load', 'Loading', 'Order #', 'Saving…'].sort());
});

test('every text of the three panels goes through a catalog', () => {
  const findings = [];
  for (const file of panelSources()) {
    for (const f of findUntranslated(readFileSync(file, 'utf8'), file)) findings.push(`${relative(web, file)}:${f.line}  ${f.text}`);
  }
  assert.deepEqual(findings, [], `untranslated text (put it in the panel's messages.ts):\n${findings.join('\n')}`);
});

/** The catalogs (every messages.ts under web/src), compiled to JavaScript and imported. */
async function catalogs() {
  const out = mkdtempSync(join(tmpdir(), 'brigade-i18n-'));
  const found = [];
  try {
    const walk = (dir) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === 'messages.ts') found.push(p);
      }
    };
    walk(join(web, 'src'));
    const loaded = [];
    for (const [i, file] of found.entries()) {
      const js = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const target = join(out, `catalog${i}.mjs`);
      writeFileSync(target, js);
      const mod = await import(pathToFileURL(target).href);
      for (const [name, value] of Object.entries(mod)) {
        if (value && typeof value === 'object' && 'en' in value && 'ko' in value) loaded.push({ file: relative(web, file), name, catalog: value });
      }
    }
    return loaded;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Every message of a catalog as [path, string], functions called with sample arguments. */
function flatten(value, path = []) {
  if (typeof value === 'string') return [[path.join('.'), value]];
  if (typeof value === 'function') return [[path.join('.'), String(value(...Array.from({ length: value.length }, (_, i) => (i === 0 ? 'customer' : 2))))]];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => flatten(v, [...path, k]));
  return [];
}

const HANGUL = /[\u3131-\u318e\uac00-\ud7a3]/;

test('every catalog has the same messages in Korean as in English, and they are Korean', async () => {
  const all = await catalogs();
  assert.ok(all.length >= 1, 'no catalog found');
  for (const { file, name, catalog } of all) {
    const en = new Map(flatten(catalog.en));
    const ko = new Map(flatten(catalog.ko));
    assert.deepEqual([...ko.keys()].sort(), [...en.keys()].sort(), `${file} ${name}: the same keys in both languages`);
    const notKorean = [...ko].filter(([k, v]) => !HANGUL.test(v) && /\p{L}{2,}/u.test(en.get(k))).map(([k, v]) => `${k}: ${v}`);
    assert.deepEqual(notKorean, [], `${file} ${name}: Korean messages without Hangul`);
  }
});
