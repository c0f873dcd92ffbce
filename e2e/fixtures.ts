import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { createRequire } from 'node:module'
import path from 'node:path'
import {
  _electron,
  test as base,
  type Browser,
  type ElectronApplication,
  type Page,
} from '@playwright/test'

const ROOT = path.join(__dirname, '..')
const HEADLESS = path.join(ROOT, 'out/main/headless.js')
const ELECTRON_MAIN = path.join(ROOT, 'out/main/index.js')

/** Where the UI under test runs. */
export type CorralTarget = 'web' | 'electron'

/** The app under test: its page, and (for the web host) the host process and URL. */
export interface CorralApp {
  page: Page
  target: CorralTarget
  /** The headless host process (web target only). */
  hostProcess: ChildProcess | null
  /** The authorised URL (web target only). */
  url: string | null
  /** The host's data directory. */
  dataDir: string | null
  /** The desktop app (Electron target only). */
  electronApp: ElectronApplication | null
  /**
   * Stop the host (SIGTERM, unless it has already exited), start a new one on the same data
   * directory and load its page. Web target only: the Electron target throws.
   */
  restartHost(): Promise<void>
}

/**
 * Why the Electron project cannot run here, or null if it can. Reads the electron package's
 * own record of its binary instead of requiring it: requiring it starts a download attempt.
 */
export function electronUnavailable(): string | null {
  let dir: string
  try {
    dir = path.dirname(createRequire(__filename).resolve('electron/package.json'))
  } catch {
    return 'the electron package is not installed'
  }
  const pathFile = path.join(dir, 'path.txt')
  const binary = existsSync(pathFile)
    ? path.join(dir, 'dist', readFileSync(pathFile, 'utf8'))
    : null
  if (!binary || !existsSync(binary)) {
    return 'the Electron binary is not installed (its download is blocked here); run `node node_modules/electron/install.js` where the network allows'
  }
  return null
}

/** Start the built headless host on a free port; resolves with its authorised URL. */
export async function startHost(
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-e2e-data-')),
): Promise<{ proc: ChildProcess; url: string; dataDir: string }> {
  if (!existsSync(HEADLESS))
    throw new Error('out/main/headless.js is missing: run `npm run build` first')
  const proc = spawn(process.execPath, [HEADLESS, '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CORRAL_TOKEN: '' },
  })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`headless host did not start: ${out}`)), 15_000)
    proc.stderr?.on('data', (d) => (out += d))
    proc.stdout?.on('data', (d) => {
      out += d
      const m = /Corral is serving at (\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ proc, url: m[1], dataDir })
      }
    })
    proc.once('exit', (code) => reject(new Error(`headless host exited (${code}): ${out}`)))
  })
}

/**
 * SIGTERM a host (unless it already exited) and wait until it has. A host that takes more
 * than 2 s to stop prints where the time went (see headless.ts); that goes to the test's
 * output, so that a slow teardown says why.
 */
async function stopHost(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  let said = ''
  const listen = (d: Buffer): void => void (said += d)
  proc.stderr?.on('data', listen)
  const exited = new Promise((r) => proc.once('exit', r))
  const started = Date.now()
  proc.kill('SIGTERM')
  await exited
  proc.stderr?.off('data', listen)
  if (Date.now() - started > 2000) {
    console.warn(`The host took ${Date.now() - started} ms to stop. ${said.trim()}`)
  }
}

export const test = base.extend<
  { app: CorralApp },
  { corralTarget: CorralTarget; webBrowser: Browser | null }
>({
  corralTarget: ['web', { option: true, scope: 'worker' }],
  // One Chromium per worker for the web target; none at all for the Electron target.
  webBrowser: [
    async ({ corralTarget, playwright, launchOptions }, use) => {
      if (corralTarget !== 'web') return use(null)
      const browser = await playwright.chromium.launch(launchOptions)
      await use(browser)
      await browser.close()
    },
    { scope: 'worker' },
  ],
  app: async ({ corralTarget, webBrowser }, use, testInfo) => {
    if (corralTarget === 'electron') {
      const why = electronUnavailable()
      testInfo.skip(why !== null, `Electron project skipped: ${why}`)
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-e2e-electron-'))
      const electronApp: ElectronApplication = await _electron.launch({
        args: [ELECTRON_MAIN],
        env: { ...process.env, CORRAL_DATA_DIR: dataDir } as Record<string, string>,
      })
      const page = await electronApp.firstWindow()
      await use({
        page,
        target: 'electron',
        hostProcess: null,
        url: null,
        dataDir,
        electronApp,
        restartHost: () => Promise.reject(new Error('restartHost is not supported for Electron')),
      })
      await electronApp.close()
      rmSync(dataDir, { recursive: true, force: true })
      return
    }
    const { proc, url, dataDir } = await startHost()
    const context = await webBrowser!.newContext()
    const page = await context.newPage()
    await page.goto(url)
    const app: CorralApp = {
      page,
      target: 'web',
      hostProcess: proc,
      url,
      dataDir,
      electronApp: null,
      async restartHost() {
        await stopHost(app.hostProcess!)
        const next = await startHost(dataDir)
        app.hostProcess = next.proc
        app.url = next.url
        await page.goto(next.url)
      },
    }
    await use(app)
    await context.close()
    await stopHost(app.hostProcess!)
    // Run logs of floods add up to gigabytes over many runs of the suite.
    rmSync(dataDir, { recursive: true, force: true })
  },
})

export { expect } from '@playwright/test'
