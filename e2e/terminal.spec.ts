import type { Locator, Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { processDiagnostics } from './output-helpers'
import { newProcessForm, processItem, runCommand } from './ui'

/**
 * The terminal's screen and scrollback as text, one string per row, read from xterm.js's DOM
 * renderer. (The app uses WebGL only with a hardware GPU; headless Chromium has none, so the
 * rows are always in the DOM here.)
 */
async function terminalLines(page: Page): Promise<string[]> {
  const rows = page.locator('.terminal-host .xterm-rows')
  if ((await rows.count()) === 0) return []
  return rows.evaluate((el) =>
    Array.from(el.children, (row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()),
  )
}

/**
 * Wait until the shell shows an empty prompt as its last line: keys typed before it is back
 * (while a `read -s` restores the terminal, or Ctrl+C interrupts a job) can be discarded.
 */
async function untilPrompt(page: Page): Promise<void> {
  await expect
    .poll(async () => (await terminalLines(page)).filter((l) => l.trim() !== '').at(-1) ?? '')
    .toMatch(/[$#]$/)
}

/** The terminal region of the selected process. */
function terminal(page: Page): Locator {
  return page.getByRole('region', { name: 'Terminal' })
}

/** Start `command` with "Run in terminal" ticked and wait until its terminal shows `ready`. */
async function runInTerminal(
  page: Page,
  command: string,
  ready: RegExp,
  extra: { shell?: boolean; name?: string } = {},
): Promise<void> {
  const form = newProcessForm(page)
  await form.getByRole('checkbox', { name: 'Run in terminal' }).check()
  await runCommand(page, { command, ...extra })
  await expect(terminal(page)).toBeVisible()
  await expect.poll(async () => (await terminalLines(page)).join('\n')).toMatch(ready)
  await terminal(page).click()
}

test('a Python REPL without -i runs in a terminal: type 1+1, see 2', async ({ app }) => {
  const { page } = app
  await runInTerminal(page, 'python3', /^>>>$/m)
  // Typing goes into the terminal, so the line-based stdin box is not offered.
  await expect(page.getByRole('textbox', { name: 'Standard input' })).toHaveCount(0)
  await expect(page.getByRole('textbox', { name: 'Terminal input' })).toBeFocused()
  await page.keyboard.type('1+1')
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalLines(page)).toEqual(expect.arrayContaining(['>>> 1+1', '2']))
  await page.keyboard.type('exit()')
  await page.keyboard.press('Enter')
  await expect(processItem(page, 'python3')).toContainText('exited')
})

test('the program sees the terminal resize with the page', async ({ app }) => {
  const { page } = app
  await page.setViewportSize({ width: 1280, height: 800 })
  await runInTerminal(page, 'bash --norc --noprofile -i', /[$#]$/m)
  const sizes = async (): Promise<string[]> =>
    (await terminalLines(page)).filter((l) => /^\d+ \d+$/.test(l))

  await page.keyboard.type('stty size')
  await page.keyboard.press('Enter')
  await expect.poll(sizes).toHaveLength(1)
  const [first] = await sizes()

  await page.setViewportSize({ width: 1000, height: 600 })
  // The grid refits (and the program gets SIGWINCH) on the next frame.
  await expect
    .poll(async () => {
      await page.keyboard.type('stty size')
      await page.keyboard.press('Enter')
      return (await sizes()).at(-1)
    })
    .not.toBe(first)
  const [rows1, cols1] = first.split(' ').map(Number)
  const [rows2, cols2] = (await sizes()).at(-1)!.split(' ').map(Number)
  expect(rows2).toBeLessThan(rows1)
  expect(cols2).toBeLessThan(cols1)
  // (An interactive shell ignores SIGTERM: leaving it ends the run without the grace period.)
  await page.keyboard.type('exit')
  await page.keyboard.press('Enter')
  await expect(processItem(page, 'bash')).toContainText('exited')
})

test('read -s keeps a secret off the screen; Ctrl+C interrupts the foreground job', async ({
  app,
}) => {
  const { page } = app
  await runInTerminal(page, 'bash --norc --noprofile -i', /[$#]$/m)
  await page.keyboard.type("read -s -p 'secret? ' x; echo; echo len=${#x}")
  await page.keyboard.press('Enter')
  // Typed only once `read` has turned echo off and asks: typed ahead, it could be read by
  // the shell before `read` runs, or flushed as echo is turned off.
  await expect.poll(() => terminalLines(page)).toContain('secret?')
  await page.keyboard.type('hunter2-secret')
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalLines(page)).toContain('len=14')
  expect((await terminalLines(page)).join('\n')).not.toContain('hunter2')

  await untilPrompt(page)
  // The job says when it runs: by then it has the terminal, so Ctrl+C reaches it. Pressed
  // while the shell is still handing the terminal over, it reaches the shell instead, and
  // the job runs on (the echo of the typed command line is no sign of that).
  await page.keyboard.type("sh -c 'echo job-''started; exec sleep 30'")
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalLines(page)).toContain('job-started')
  await page.keyboard.press('Control+C')
  await untilPrompt(page)
  await page.keyboard.type('echo after-$((6*7))')
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalLines(page)).toContain('after-42')
  await expect(processItem(page, 'bash')).toContainText('running')
  await page.keyboard.type('exit')
  await page.keyboard.press('Enter')
  await expect(processItem(page, 'bash')).toContainText('exited')
})

test('reloading replays the terminal once, then it carries on live', async ({ app }) => {
  const { page } = app
  await runInTerminal(page, 'python3', /^>>>$/m)
  await page.keyboard.type('print("mark" + "er-" + str(6*7))')
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalLines(page)).toContain('marker-42')

  await page.reload()
  await expect(terminal(page)).toBeVisible()
  await expect.poll(() => terminalLines(page)).toContain('marker-42')
  const lines = await terminalLines(page)
  expect(lines.filter((l) => l === 'marker-42')).toHaveLength(1)
  expect(lines.filter((l) => l.includes('started python3'))).toHaveLength(1)
  expect(lines.filter((l) => l.startsWith('Python 3.'))).toHaveLength(1)

  // Still the same live session after the reload.
  await terminal(page).click()
  await page.keyboard.type('6*7+1')
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalLines(page)).toContain('43')
})

test('a terminal flooding in the background shows the right state when it comes on screen', async ({
  app,
}) => {
  const { page } = app
  // The colour changes halfway through the flood: the part the host skips while the process
  // is not on screen. A terminal replaying around the hole would print "after" uncoloured.
  await runInTerminal(
    page,
    "sleep 2; seq -f 'row-%g' 1 100000; printf '\\033[31m'; seq -f 'row-%g' 100001 200000; printf 'after\\n'; sleep 60",
    /started/,
    { shell: true, name: 'tflood' },
  )
  await newProcessForm(page).getByRole('checkbox', { name: 'Run in terminal' }).uncheck()
  await runCommand(page, { command: 'sleep 60', name: 'other' })
  await processItem(page, 'other').click()
  await expect(processItem(page, 'tflood')).toBeVisible()
  // The flood runs and ends while another process is on screen.
  await page.waitForTimeout(6000)
  const diagnostics = await processDiagnostics(page, 'tflood')
  expect(diagnostics?.gaps, 'the host skipped part of the flood for this page').toBeGreaterThan(0)

  await processItem(page, 'tflood').click()
  const afterRow = async (): Promise<{ text: string; red: boolean; before: string } | null> =>
    page.locator('.terminal-host .xterm-rows').evaluate((el) => {
      const rows = Array.from(el.children)
      const i = rows.findIndex((r) => (r.textContent ?? '').startsWith('after'))
      if (i < 1) return null
      return {
        text: rows[i].textContent ?? '',
        red: rows[i].querySelector('.xterm-fg-1') !== null,
        before: (rows[i - 1].textContent ?? '').trim(),
      }
    })
  await expect.poll(afterRow, { timeout: 20_000 }).toEqual({
    text: expect.stringMatching(/^after/),
    red: true,
    before: 'row-200000',
  })
})
