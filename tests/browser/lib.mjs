// Shared helpers for the browser tests and the screenshot script: start a
// Brigade server on 127.0.0.1 with a fresh data dir, launch Debian's chromium
// through playwright-core, talk to the REST API from Node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { brigadeBinary, startBrigade } from '../lib/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
const require = createRequire(join(repo, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.BRIGADE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // BRIGADE_TEST_TLS=1: the server speaks HTTPS with a throwaway self-signed certificate.
  ...(process.env.BRIGADE_TEST_TLS === '1' ? ['--ignore-certificate-errors'] : []),
];

/** --tls-cert/--tls-key of a self-signed certificate made once per process (BRIGADE_TEST_TLS=1). */
let tlsFiles = null;
function tlsArgs() {
  if (process.env.BRIGADE_TEST_TLS !== '1') return [];
  if (!tlsFiles) {
    const dir = mkdtempSync(join(tmpdir(), 'brigade-browser-tls-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    execFileSync(brigadeBinary(), ['cert', 'self-signed', '--host', '127.0.0.1', '--out', dir], { stdio: 'ignore', timeout: 30000 });
    tlsFiles = ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')];
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the tests' own REST calls
  }
  return tlsFiles;
}

/**
 * Starts brigade with the built panels (tests/lib/server.mjs); resolves once it
 * listens. The browser suite keeps brigade's own sign-up limit (no --register-limit).
 */
export async function startServer({ extraArgs = [], timeoutMs = 30000 } = {}) {
  const webDir = process.env.BRIGADE_WEB_DIR ?? join(repo, 'web/dist');
  if (!existsSync(join(webDir, 'index.html'))) throw new Error(`panels not built at ${webDir} (run scripts/build-web.sh)`);
  const server = await startBrigade({ args: ['--web-dir', webDir, ...tlsArgs(), ...extraArgs], registerLimit: null, timeoutMs });
  // stop() here also removes the data dir (the screenshot script runs one server).
  server.stop = server.dispose;
  return server;
}

export async function launchBrowser() {
  // playwright-core's launch() gives the browser a fresh temporary profile
  // (user-data-dir) of its own and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
}

/**
 * A browser context that can only reach the test server. Its language is English unless
 * `options.locale` says otherwise ('ko-KR' opens the panels in Korean): the panels follow
 * the browser's language (web/src/shared/i18n.tsx), and a test must not follow the machine's.
 */
export async function newContext(browser, server, options = {}) {
  const context = await browser.newContext({ baseURL: server.url, locale: 'en-US', ...options });
  const allowed = new URL(server.url).host;
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.host === allowed) return route.continue();
    return route.abort('blockedbyclient');
  });
  context.setDefaultTimeout(15000);
  return context;
}

export const DESKTOP = { viewport: { width: 1440, height: 900 } };
export const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** Minimal REST client for setting the scene from Node. */
export function rest(server) {
  async function call(method, path, body, token, headers = {}) {
    const res = await fetch(server.url + path, {
      method,
      headers: {
        ...(body ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return data;
  }
  return {
    call,
    async login(role) {
      const a = server.accounts[role];
      return (await call('POST', '/api/auth/login', { email: a.email, password: a.password })).token;
    },
    menu: () => call('GET', '/api/menu'),
    placeOrder: (token, items, delivery = { address: '12 Canal Street' }) =>
      call('POST', '/api/orders', { items, delivery }, token, { 'Idempotency-Key': `k-${Math.random().toString(36).slice(2)}` }),
  };
}

/** Signs in through a panel's login form. */
export async function signIn(page, account) {
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Fails the test on uncaught page errors. */
export function collectErrors(page, sink) {
  page.on('pageerror', (e) => sink.push(`${page.url()}: ${e.message}`));
}
