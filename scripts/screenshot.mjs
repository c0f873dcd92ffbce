// Takes the README screenshot: starts the built headless host with a scratch data folder,
// runs a few processes through the UI, and writes docs/screenshot.png (light) and
// docs/screenshot-dark.png. Usage: npm run build && node scripts/screenshot.mjs
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium } from '@playwright/test'
import { chromiumArgs, chromiumExecutable } from './chromium.mjs'

const root = path.join(import.meta.dirname, '..')
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'corral-shot-'))
const host = spawn(
  process.execPath,
  [path.join(root, 'out/main/headless.js'), '--port', '0', '--data-dir', dataDir],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
const url = await new Promise((resolve) => {
  let out = ''
  host.stdout.on('data', (d) => {
    out += d
    const m = /serving at (\S+)/.exec(out)
    if (m) resolve(m[1])
  })
})

const browser = await chromium.launch({ executablePath: chromiumExecutable, args: chromiumArgs })
const outDir = process.argv[2] ?? path.join(root, 'docs')
for (const scheme of ['light', 'dark']) {
  const page = await browser.newPage({
    viewport: { width: 1280, height: 760 },
    colorScheme: scheme,
  })
  await page.goto(url)
  if (scheme === 'light') {
    const run = async (command, name, shell = false) => {
      await page.getByRole('textbox', { name: 'Command' }).fill(command)
      await page.getByRole('textbox', { name: 'Name' }).fill(name)
      await page.getByRole('checkbox', { name: 'Run in shell' }).setChecked(shell)
      await page.getByRole('button', { name: 'Run', exact: true }).click()
      await page.waitForTimeout(300)
    }
    await run('sleep 300', 'worker')
    await run('false', 'broken')
    await run('no-such-tool --serve', 'typo')
    await run(
      `python3 -c "import sys,time;print('Serving on http://127.0.0.1:8000');print('GET / 200', flush=True);print('warning: cache miss', file=sys.stderr);[print('got', l.strip(), flush=True) for l in sys.stdin]"`,
      'dev server',
    )
    await page.getByRole('textbox', { name: 'Standard input' }).fill('hello')
    await page.getByRole('textbox', { name: 'Standard input' }).press('Enter')
    await page.waitForTimeout(1500)
  } else {
    // A fresh page: wait until it has loaded the output it shows.
    await page.getByRole('log', { name: 'Output' }).getByText('got hello').waitFor()
  }
  const file = path.join(outDir, scheme === 'light' ? 'screenshot.png' : 'screenshot-dark.png')
  await page.screenshot({ path: file })
  console.log(`wrote ${file}`)
  await page.close()
}
await browser.close()
host.kill('SIGTERM')
