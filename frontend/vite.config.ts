/// <reference types="vitest/config" />
// Vite build and Vitest configuration for the BanGUI dashboard.
// JSX is compiled by esbuild's automatic runtime (no React plugin needed).
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    // Flags stay separate files the browser fetches when shown, not data URLs inside the bundle.
    assetsInlineLimit: (file: string) => (file.includes('country-flag-icons') ? false : undefined),
    rollupOptions: {
      onwarn(warning, warn) {
        // react-router ships "use client" directives, meaningless in a client-only bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    // `npm run dev` proxies the API to a locally running `bangui` (default port 8000).
    proxy: { '/api': process.env.BANGUI_DEV_API ?? 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    restoreMocks: true,
  },
});
