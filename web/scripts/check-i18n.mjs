#!/usr/bin/env node
// Finds text in the panels' sources that bypasses the message catalogs (shared/i18n.tsx):
//   - JSX text with a letter in it:                      <p>Loading</p>
//   - a string with a letter given to a JSX attribute     title="Close", label={'Name'}
//     that carries text (any but the technical ones below),
//     in a text position: the whole value, a branch of ?:, || or ??, the right of &&, a part
//     of + or of a template literal; comparisons and call arguments are not text positions;
//   - the same in a JSX child expression:                 {busy ? 'Saving…' : m.save}
//   - a string with a letter given to a function that shows text
//     (setError, confirm, notifyIfHidden, …):             setError('Could not load')
// Usage: node scripts/check-i18n.mjs [files…]   (default: every .ts/.tsx under src/)
// Exit 1 with one line per finding (file:line:col  text), 0 when there is none.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const webRoot = resolve(here, '..');

/** Attributes whose value is never shown to a person. */
const TECHNICAL_ATTRIBUTES = new Set([
  'className', 'class', 'key', 'id', 'htmlFor', 'href', 'src', 'type', 'name', 'role', 'rel', 'target',
  'autoComplete', 'inputMode', 'enterKeyHint', 'pattern', 'method', 'lang', 'value', 'defaultValue', 'style',
  'accept', 'mode', 'd', 'viewBox', 'fill', 'stroke', 'strokeWidth', 'strokeLinecap', 'strokeLinejoin', 'xmlns',
  'status', 'icon', 'size', 'variant', 'kind', 'tone', 'panel', 'form', 'dir', 'step', 'min', 'max', 'list',
  'aria-hidden', 'aria-live', 'aria-current', 'aria-controls', 'aria-labelledby', 'aria-describedby',
  'aria-expanded', 'aria-pressed', 'aria-selected', 'aria-modal', 'aria-haspopup', 'aria-invalid',
  'aria-required', 'aria-busy', 'aria-atomic', 'aria-relevant', 'aria-orientation', 'aria-sort', 'capture',
  'loading', 'decoding', 'focusable', 'scope', 'textAnchor', 'dominantBaseline', 'colSpan', 'rowSpan', 'headers', 'wrap', 'referrerPolicy', 'crossOrigin', 'sandbox', 'allow', 'tabIndex', 'testid',
]);

/** Functions whose first n string arguments are shown to a person. */
const TEXT_FUNCTIONS = new Map([
  ...['setError', 'setLoadError', 'setMenuError', 'setOrdersError', 'setStatsError', 'setNotice', 'setMessage',
    'setInfo', 'setWarning', 'confirm', 'alert', 'prompt', 'announce'].map((f) => [f, 1]),
  ['notifyIfHidden', 2], // (title, body, tag)
]);

/** Words that are the same in every language (the product's name). */
const SAME_IN_EVERY_LANGUAGE = new Set(['Brigade', 'B']);

const LETTER = /\p{L}/u;

function isText(s) {
  const t = s.trim();
  return t !== '' && LETTER.test(t) && !SAME_IN_EVERY_LANGUAGE.has(t);
}

/** Every finding in one source text: [{line, col, text}]. */
export function findUntranslated(source, fileName = 'x.tsx') {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found = [];
  const report = (node, text) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    found.push({ line: line + 1, col: character + 1, text: text.trim().replace(/\s+/g, ' ') });
  };
  // The strings of an expression that end up as text.
  const textPositions = (e) => {
    if (!e) return;
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) {
      if (isText(e.text)) report(e, e.text);
    } else if (ts.isTemplateExpression(e)) {
      const parts = [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join(' ');
      if (isText(parts)) report(e, parts);
      e.templateSpans.forEach((s) => textPositions(s.expression));
    } else if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) {
      textPositions(e.expression);
    } else if (ts.isConditionalExpression(e)) {
      textPositions(e.whenTrue);
      textPositions(e.whenFalse);
    } else if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken) textPositions(e.right);
      else if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.PlusToken) {
        textPositions(e.left);
        textPositions(e.right);
      }
    } else if (ts.isJsxElement(e) || ts.isJsxFragment(e) || ts.isJsxSelfClosingElement(e)) {
      // visited by the walk below
    }
  };
  const attributeName = (a) => (ts.isIdentifier(a.name) ? a.name.text : a.name.getText(sf));
  const visit = (node) => {
    if (ts.isJsxText(node)) {
      if (isText(node.text)) report(node, node.text);
    } else if (ts.isJsxAttribute(node)) {
      const name = attributeName(node);
      const technical = TECHNICAL_ATTRIBUTES.has(name) || name.startsWith('data-') || /^on[A-Z]/.test(name);
      if (!technical && node.initializer) {
        if (ts.isStringLiteral(node.initializer)) {
          if (isText(node.initializer.text)) report(node.initializer, node.initializer.text);
        } else if (ts.isJsxExpression(node.initializer)) {
          textPositions(node.initializer.expression);
        }
      }
    } else if (ts.isJsxExpression(node) && node.parent && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))) {
      textPositions(node.expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
      if (TEXT_FUNCTIONS.has(name)) node.arguments.slice(0, TEXT_FUNCTIONS.get(name)).forEach(textPositions);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The panels' sources: every .ts and .tsx under src/ except the message catalogs. */
export function panelSources(root = join(webRoot, 'src')) {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(entry.name) && !/messages\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : panelSources();
  let count = 0;
  for (const file of files) {
    for (const f of findUntranslated(readFileSync(file, 'utf8'), file)) {
      console.log(`${relative(webRoot, file)}:${f.line}:${f.col}  ${f.text}`);
      count++;
    }
  }
  if (count) {
    console.error(`check-i18n: ${count} untranslated text(s); put them in the panel's messages.ts (shared/i18n.tsx says how)`);
    process.exit(1);
  }
  console.log(`check-i18n: ${files.length} files, no untranslated text`);
}
