import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'
import { electronUnavailable, type CorralTarget } from './e2e/fixtures'

// Debian's Chromium where it is installed (CI, servers); Playwright's own browser elsewhere.
const SYSTEM_CHROMIUM = '/usr/bin/chromium'
const executablePath =
  process.env.CORRAL_CHROMIUM ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined)

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
          executablePath,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
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
