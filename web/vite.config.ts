import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Three pages, one build: / (customer), /admin/, /rider/ -> web/dist, served by brigade.
// `npm run dev` proxies the API and the real-time channel to a running brigade
// (BRIGADE_URL, default http://127.0.0.1:8080).
const backend = process.env.BRIGADE_URL ?? 'http://127.0.0.1:8080';

/** Every file under a directory, as [relative path, bytes], sorted. */
function filesUnder(dir: string, prefix = ''): [string, Buffer][] {
  return readdirSync(dir)
    .sort()
    .flatMap((name): [string, Buffer][] => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return filesUnder(path, `${prefix}${name}/`);
      return [[prefix + name, readFileSync(path)]];
    });
}

// The panels' service worker (pwa/sw.js, docs/PANELS.md "Installable panels and
// notifications") is emitted as /sw.js with this build's hash as its cache version: a
// new build changes the worker's bytes, so browsers install it and drop the old cache.
function serviceWorker(): Plugin {
  const template = resolve(import.meta.dirname, 'pwa/sw.js');
  return {
    name: 'brigade-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const source = readFileSync(template, 'utf8');
      const hash = createHash('sha256').update(source);
      for (const name of Object.keys(bundle).sort()) {
        const file = bundle[name];
        hash.update(name).update(file.type === 'chunk' ? file.code : file.source);
      }
      for (const [name, bytes] of filesUnder(resolve(import.meta.dirname, 'public'))) hash.update(name).update(bytes);
      const placeholder = "'__BRIGADE_BUILD__'";
      if (!source.includes(placeholder)) this.error(`${template}: no ${placeholder}`);
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: source.replace(placeholder, `'${hash.digest('hex').slice(0, 16)}'`) });
    },
  };
}

export default defineConfig({
  plugins: [react(), serviceWorker()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      input: {
        customer: resolve(import.meta.dirname, 'index.html'),
        admin: resolve(import.meta.dirname, 'admin/index.html'),
        rider: resolve(import.meta.dirname, 'rider/index.html'),
      },
    },
  },
  server: {
    proxy: {
      '/api': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
});
