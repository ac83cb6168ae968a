import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

// Built into Brigade's web directory, where `brigade --examples` serves it at
// /examples/tutorial/. `npm run dev` proxies to a running Brigade (BRIGADE_URL).
const backend = process.env.BRIGADE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/examples/tutorial/',
  build: {
    outDir: resolve(import.meta.dirname, '../../web/dist/examples/tutorial'),
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
});
