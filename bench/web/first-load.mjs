#!/usr/bin/env node
// The customer's first load on a phone over an emulated "Fast 3G" network (Chrome
// DevTools' preset: 562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up), with the
// panels' files compressed (brotli from the build, as a browser gets them) and without
// (Accept-Encoding: identity), a cold cache each time. Prints figures, asserts nothing:
// docs/BENCHMARKS.md records them.
//
//   node bench/web/first-load.mjs [--runs N]
// Needs the release build (or BRIGADE_BIN) and web/dist (scripts/build-web.sh).
// The server it starts listens on 127.0.0.1 only and is stopped at the end.
import { launchBrowser, newContext, PHONE, startServer } from '../../tests/browser/lib.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: ((1.6 * 1024 * 1024) / 8) * 0.9,
  uploadThroughput: ((750 * 1024) / 8) * 0.9,
};

async function once(browser, server, coding) {
  const ctx = await newContext(browser, server, PHONE);
  try {
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', FAST_3G);
    if (coding === 'identity') await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
    let bytes = 0;
    cdp.on('Network.loadingFinished', (e) => (bytes += e.encodedDataLength));
    const started = Date.now();
    await page.goto('/', { waitUntil: 'load', timeout: 120000 });
    const loaded = Date.now() - started;
    await page.getByTestId('dish').first().waitFor({ timeout: 120000 });
    const menu = Date.now() - started;
    return { loaded, menu, bytes };
  } finally {
    await ctx.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await startServer();
const browser = await launchBrowser();
try {
  console.log(`first load of / on emulated Fast 3G, phone viewport, cold cache, ${runs} runs each (median)`);
  for (const coding of ['identity', 'compressed']) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await once(browser, server, coding));
    console.log(
      JSON.stringify({
        coding,
        transferred_bytes: median(results.map((r) => r.bytes)),
        load_event_ms: median(results.map((r) => r.loaded)),
        menu_shown_ms: median(results.map((r) => r.menu)),
      }),
    );
  }
} finally {
  await browser.close();
  await server.stop();
}
