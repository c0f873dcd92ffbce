import { defineConfig } from '@playwright/test'
import { electronUnavailable, type CorralTarget } from './e2e/fixtures'
import { chromiumArgs, chromiumExecutable, devShmUsable } from './scripts/chromium.mjs'

const whyNoElectron = electronUnavailable()
// Said once, by the runner process (workers load this file too).
if (whyNoElectron && process.env.TEST_WORKER_INDEX === undefined) {
  console.log(`Playwright project "electron" will skip every test: ${whyNoElectron}.`)
}

export default defineConfig<object, { corralTarget: CorralTarget }>({
  testDir: 'e2e',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: { trace: 'retain-on-failure' },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: chromiumExecutable,
          args: chromiumArgs,
          // Shared memory in /dev/shm, as in a desktop browser, where it has room.
          ignoreDefaultArgs: devShmUsable() ? ['--disable-dev-shm-usage'] : [],
        },
      },
    },
    {
      // The same specs against the desktop app; skips itself where the Electron binary is missing.
      name: 'electron',
      use: { corralTarget: 'electron' },
    },
  ],
})
