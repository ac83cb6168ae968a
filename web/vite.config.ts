import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

// Three pages, one build: / (customer), /admin/, /rider/ -> web/dist, served by brigade.
// `npm run dev` proxies the API and the real-time channel to a running brigade
// (BRIGADE_URL, default http://127.0.0.1:8080).
const backend = process.env.BRIGADE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
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
