// Chromium for the benchmarks, driven over a bare DevTools pipe rather than by Playwright.
//
// Playwright turns on DevTools domains for every page it drives; with the Network domain on,
// Chromium reports each WebSocket frame the page receives as an event carrying the whole
// payload (base64 for binary frames), which the browser process forwards as JSON and the
// bench process parses. That is CPU taken from the host and the page in proportion to the
// output the page receives: in interleaved runs of 300 MB followed in the UI, the sink page
// drained 537 MB/s under Playwright and 731 MB/s here. A real user's window has no
// debugger attached, so the benchmarks measure without one: only `Runtime.evaluate` (and
// the odd call a benchmark asks for) goes over this pipe, and no domain is enabled.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { devShmUsable } from '../scripts/chromium.mjs'

/**
 * What Playwright passes Chromium for automation that matter to timing (no throttling of
 * background pages or timers, no hang monitor, no IPC flood protection), and the quiet-network
 * flags it passes as well.
 */
const AUTOMATION_ARGS = [
  '--disable-field-trial-config',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
  '--disable-back-forward-cache',
  '--disable-hang-monitor',
  '--disable-ipc-flooding-protection',
  '--disable-breakpad',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-component-extensions-with-background-pages',
  '--disable-popup-blocking',
  '--disable-prompt-on-repost',
  '--disable-search-engine-choice-screen',
  '--disable-infobars',
  '--no-default-browser-check',
  '--no-service-autorun',
  '--metrics-recording-only',
  '--password-store=basic',
  '--use-mock-keychain',
  '--force-color-profile=srgb',
  '--hide-scrollbars',
  '--mute-audio',
  '--no-startup-window',
]

/** Left out where /dev/shm has room, as for a desktop browser (see {@link devShmUsable}). */
const sharedMemoryArgs = () => (devShmUsable() ? [] : ['--disable-dev-shm-usage'])

/**
 * Launch Chromium (`executable`, Playwright's flags above plus `args`) with a fresh profile.
 * Resolves to a browser with `newPage(url)` and `close()`.
 */
export async function launchBrowser(executable, args = []) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'corral-bench-chromium-'))
  const proc = spawn(
    executable,
    [
      ...AUTOMATION_ARGS,
      ...sharedMemoryArgs(),
      ...args,
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
    ],
    // The pipe is fds 3 (commands in) and 4 (replies and events out), NUL-separated JSON.
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  const commands = proc.stdio[3]
  const replies = proc.stdio[4]
  commands.on('error', () => {})
  let nextId = 1
  const waiting = new Map()
  let pending = ''
  replies.setEncoding('utf8')
  replies.on('data', (text) => {
    pending += text
    for (let end = pending.indexOf('\0'); end >= 0; end = pending.indexOf('\0')) {
      const msg = JSON.parse(pending.slice(0, end))
      pending = pending.slice(end + 1)
      const w = msg.id !== undefined && waiting.get(msg.id)
      if (!w) continue
      waiting.delete(msg.id)
      if (msg.error) w.reject(new Error(`${w.method}: ${msg.error.message}`))
      else w.resolve(msg.result)
    }
  })
  exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error(`${w.method}: the browser exited`))
    waiting.clear()
  })
  const send = (method, params = {}, sessionId = undefined) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject, method })
      commands.write(`${JSON.stringify({ id, method, params, sessionId })}\0`)
    })
  await send('Browser.getVersion')

  return {
    /** The browser's process id (its renderers, GPU and utility processes are its descendants). */
    pid: proc.pid,
    /** A new tab showing `url` (loaded), `width` x `height` CSS pixels. */
    async newPage(url, { width = 1280, height = 800 } = {}) {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' })
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true })
      const call = (method, params) => send(method, params, sessionId)
      await call('Emulation.setDeviceMetricsOverride', {
        width,
        height,
        deviceScaleFactor: 1,
        mobile: false,
      })
      await call('Page.navigate', { url })
      const page = {
        /** Run `fn(arg)` in the page (awaiting a promise) and return its JSON value. */
        async evaluate(fn, arg) {
          const r = await call('Runtime.evaluate', {
            expression: `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`,
            awaitPromise: true,
            returnByValue: true,
          })
          if (r.exceptionDetails) {
            const e = r.exceptionDetails
            throw new Error(`in the page: ${e.exception?.description ?? e.text}`)
          }
          return r.result.value
        },
        /** Until `fn(arg)` is truthy in the page, asked every 50 ms; returns its value. */
        async waitFor(fn, arg, timeoutMs = 60_000) {
          const deadline = Date.now() + timeoutMs
          for (;;) {
            const value = await page.evaluate(fn, arg).catch(() => null)
            if (value) return value
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${fn}`)
            await sleep(50)
          }
        },
        /** A DevTools command for this page (e.g. `HeapProfiler.collectGarbage`). */
        send: call,
        close: () => send('Target.closeTarget', { targetId }),
      }
      await page.waitFor(() => document.readyState === 'complete')
      return page
    },
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        await send('Browser.close').catch(() => proc.kill('SIGKILL'))
        await Promise.race([exited, sleep(5000).then(() => proc.kill('SIGKILL'))])
        await exited
      }
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
