import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          // The Electron entry and the plain-Node headless host share the core.
          index: resolve(__dirname, 'src/main/index.ts'),
          headless: resolve(__dirname, 'src/main/headless.ts'),
          // Spawned by both as separate programs; see src/main/watchdog.ts and spawner.ts.
          watchdog: resolve(__dirname, 'src/main/watchdog.ts'),
          spawner: resolve(__dirname, 'src/main/spawner.ts'),
          // The host's output worker thread; see src/main/output-worker.ts.
          'output-worker': resolve(__dirname, 'src/main/output-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // A sandboxed preload must be one CommonJS file with no imports but `electron`.
        output: { format: 'cjs', inlineDynamicImports: true },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
    plugins: [react()],
  },
})
