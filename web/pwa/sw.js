// Brigade's service worker: one file (/sw.js), registered once per panel with the panel's
// scope ("/", "/admin/", "/rider/"; web/src/shared/pwa.ts), so that each installed panel
// opens without a network. The build (vite.config.ts, serviceWorker()) writes the build's
// hash into BUILD: a new build is a new worker with a new cache, and the
// old cache is deleted once it takes over.
//
//  - install: cache the panel's page and the files its tags name (/assets/, icons, manifest);
//  - navigations to the panel's page: network first, the cached page when offline;
//  - /assets/ (named after their content): cache first, cached on first use (lazy chunks);
//  - /api/ and /socket.io/: never touched, never cached — orders are live data.
const BUILD = '__BRIGADE_BUILD__';
const SCOPE = new URL(self.registration.scope).pathname; // this registration's panel
const PREFIX = `brigade-shell ${SCOPE} `;
const CACHE = PREFIX + BUILD;
const PANELS = ['/admin/', '/rider/'];

/** The panel a path belongs to: "/admin/", "/rider/", or "/" (the customer's). */
function panelOf(pathname) {
  return PANELS.find((p) => pathname.startsWith(p)) ?? '/';
}
function neverCached(pathname) {
  return pathname.startsWith('/api/') || pathname.startsWith('/socket.io/');
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fetch(SCOPE, { cache: 'no-cache' });
      if (!page.ok) throw new Error(`${SCOPE}: ${page.status}`);
      const html = await page.clone().text();
      await cache.put(SCOPE, page);
      const files = new Set();
      for (const [, path] of html.matchAll(/\b(?:src|href)="(\/[^"]*)"/g)) {
        if (neverCached(path)) continue;
        if (path.startsWith('/assets/') || path.startsWith('/icons/') || path.endsWith('.webmanifest')) files.add(path);
      }
      await cache.addAll([...files]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || neverCached(url.pathname)) return;
  if (request.mode === 'navigate') {
    // Only this panel's page: another panel's (whose worker may not be installed yet) and
    // anything else in the scope (/examples/…) are left to the network.
    if (url.pathname === SCOPE || url.pathname === `${SCOPE}index.html`) event.respondWith(navigate(request));
  } else if (url.pathname.startsWith('/assets/')) event.respondWith(cacheFirst(request));
});

async function navigate(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(CACHE);
      await cache.put(SCOPE, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(SCOPE, { cacheName: CACHE });
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

// A notification shown by the page (web/src/shared/pwa.ts): a click brings the panel back.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((w) => panelOf(new URL(w.url).pathname) === SCOPE);
      if (open) return open.focus();
      return self.clients.openWindow(event.notification.data?.url ?? SCOPE);
    })(),
  );
});
