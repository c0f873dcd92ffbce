import type { Page } from '@playwright/test'
import { WARM_UP_MARK } from '../src/renderer/src/lib/warm-up'
import { expect, test } from './fixtures'
import { newProcessForm, output, processItem, runCommand } from './ui'

/**
 * Hold back the host's answers to `start` calls on the page's WebSocket until the returned
 * function is called; everything else passes as it comes. Reloads the page to route it.
 */
async function holdBackStartAnswers(page: Page): Promise<() => void> {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  await page.routeWebSocket(/\/ws/, (ws) => {
    const server = ws.connectToServer()
    const startCalls = new Set<number>()
    ws.onMessage((message) => {
      if (typeof message === 'string') {
        const call = JSON.parse(message) as { t: string; id: number; method: string }
        if (call.t === 'call' && call.method === 'start') startCalls.add(call.id)
      }
      server.send(message)
    })
    server.onMessage((message) => {
      if (typeof message === 'string') {
        const result = JSON.parse(message) as { t: string; id: number }
        if (result.t === 'result' && startCalls.has(result.id)) {
          void released.then(() => ws.send(message))
          return
        }
      }
      ws.send(message)
    })
  })
  await page.reload()
  return release
}

const PY_ECHO = `python3 -c "import sys;print('hi');print('err',file=sys.stderr);[print('got',l.strip()) for l in sys.stdin]"`

test('runs a Python script: live stdout and stderr, typed stdin, EOF, exit code', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, { command: PY_ECHO, name: 'py-echo' })
  const log = output(page)
  await expect(log).toContainText('hi')
  await expect(log).toContainText('err')
  // stderr is visibly distinct from stdout.
  const errRow = log.locator('[data-stream="stderr"]', { hasText: 'err' }).first()
  const outRow = log.locator('[data-stream="stdout"]', { hasText: 'hi' }).first()
  await expect(errRow).toBeVisible()
  const [errColor, outColor] = await Promise.all([
    errRow.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color),
    outRow.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color),
  ])
  expect(errColor).not.toBe(outColor)

  const stdin = page.getByRole('textbox', { name: 'Standard input' })
  await expect(stdin).toBeFocused()
  await stdin.fill('hello corral')
  await stdin.press('Enter')
  await expect(log).toContainText('got hello corral')
  await expect(stdin).toHaveValue('')
  // What was typed shows as it was sent, on a row of its own, ahead of the answer.
  const typed = log.locator('[data-stream="stdin"]')
  await expect(typed).toHaveText(['› hello corral'])
  const rows = await log.locator('[data-stream]').allInnerTexts()
  expect(rows.indexOf('› hello corral')).toBe(rows.indexOf('got hello corral') - 1)
  // A secret goes to the program only: no row of it, and the box hides it as typed.
  const hide = page.getByRole('button', { name: 'Hide typed input' })
  await hide.click()
  await expect(hide).toHaveAttribute('aria-pressed', 'true')
  const secretBox = page.getByLabel('Standard input')
  await expect(secretBox).toHaveAttribute('type', 'password')
  await secretBox.fill('s3cret')
  await secretBox.press('Enter')
  await expect(log).toContainText('got s3cret')
  await expect(typed).toHaveText(['› hello corral'])
  await page.getByRole('button', { name: 'Send EOF' }).click()
  await expect(processItem(page, 'py-echo')).toContainText('exited')
  await expect(page.getByText(/exited with code 0 after/).first()).toBeVisible()
})

test('typing on in the form while a start is answered keeps the keystrokes in the form', async ({
  app,
}) => {
  test.skip(app.target !== 'web', 'holds back the host answer on the headless WebSocket')
  const { page } = app
  const release = await holdBackStartAnswers(page)

  // The process shows in the list (an event) before its start is answered.
  await runCommand(page, { command: 'cat', name: 'first' })
  const command = newProcessForm(page).getByRole('textbox', { name: 'Command' })
  await command.fill('echo next')
  release()
  const stdin = page.getByRole('textbox', { name: 'Standard input' })
  await expect(stdin).toBeVisible()
  await expect(processItem(page, 'first')).toContainText('running')
  // Let the answer's render and effects run, then type where the focus is.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))))
  await page.keyboard.type(' --more')
  await expect(command).toHaveValue('echo next --more')
  await expect(stdin).toHaveValue('')
  await expect(command).toBeFocused()
})

test('choosing another process while a start is answered keeps that process on screen', async ({
  app,
}) => {
  test.skip(app.target !== 'web', 'holds back the host answer on the headless WebSocket')
  const { page } = app
  await runCommand(page, { command: 'echo chosen-output', name: 'chosen' })
  await expect(output(page)).toContainText('chosen-output')
  await runCommand(page, { command: 'echo other-output', name: 'other' })
  await expect(output(page)).toContainText('other-output')
  const release = await holdBackStartAnswers(page)
  await expect(processItem(page, 'other')).toHaveAttribute('aria-current', 'true')

  await runCommand(page, { command: 'cat', name: 'late' })
  // Before the host answers, the user picks another process.
  await processItem(page, 'chosen').click()
  await expect(output(page)).toContainText('chosen-output')
  release()
  await expect(processItem(page, 'late')).toContainText('running')
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))))
  await expect(processItem(page, 'chosen')).toHaveAttribute('aria-current', 'true')
  await expect(output(page)).toContainText('chosen-output')
  await expect(page.getByRole('textbox', { name: 'Standard input' })).not.toBeFocused()
})

test('keeps stdout/stderr order and shows UTF-8 intact', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `printf 'one\\n'; printf 'two\\n' >&2; sleep 0.05; printf 'three — 日本語 🎉\\n'; printf '\\377bad\\n'`,
    shell: true,
    name: 'order',
  })
  const log = output(page)
  await expect(log).toContainText('three — 日本語 🎉')
  await expect(log).toContainText('\uFFFDbad')
  const text = await log.innerText()
  expect(text.indexOf('one')).toBeLessThan(text.indexOf('two'))
  expect(text.indexOf('two')).toBeLessThan(text.indexOf('three'))
})

test('a pasted script keeps its lines: Shift+Enter starts a new line, Enter runs it', async ({
  app,
}) => {
  const { page } = app
  const form = newProcessForm(page)
  const command = form.getByRole('textbox', { name: 'Command' })
  await command.fill('for i in 1 2; do\n  echo "line $i"\ndone')
  await command.press('End')
  await command.press('Shift+Enter')
  await command.pressSequentially('echo end')
  await expect(command).toHaveValue('for i in 1 2; do\n  echo "line $i"\ndone\necho end')
  await form.getByRole('checkbox', { name: 'Run in shell' }).check()
  await form.getByRole('textbox', { name: 'Name' }).fill('script')
  await command.press('Enter')
  const log = output(page)
  await expect(log).toContainText('exited with code 0')
  const rows = await log.locator('[data-stream="stdout"]').allInnerTexts()
  expect(rows).toEqual(['line 1', 'line 2', 'end'])
  // The "started" line names the script on one row: its first line and how many follow.
  const started = await log.locator('[data-stream="system"]').first().innerText()
  expect(started).toMatch(/^▶ started for i in 1 2; do … \(\+3 lines\) \(pid \d+\)$/)
  await expect(page.locator('.process-command .command-text')).toHaveText(
    'for i in 1 2; do … (+3 lines)',
  )
  // The box shows every line of it, and Ctrl/Cmd+K still finds it.
  await expect(command).toHaveAttribute('rows', '4')
  await log.click()
  await page.keyboard.press('ControlOrMeta+K')
  await expect(command).toBeFocused()
})

test('uses working directory, environment lines and name from the form', async ({ app }) => {
  const { page } = app
  process.env.CORRAL_E2E_UNSET = 'still-here'
  await runCommand(page, {
    command: 'echo "cwd=$(pwd) foo=$FOO unset=${CORRAL_E2E_UNSET:-gone} py=$PYTHONUNBUFFERED"',
    shell: true,
    cwd: '/tmp',
    env: 'FOO=bar baz\nCORRAL_E2E_UNSET=',
    name: 'env-check',
  })
  await expect(output(page)).toContainText('cwd=/tmp foo=bar baz unset=gone py=1')
  await expect(processItem(page, 'env-check')).toBeVisible()
  // Each item is named for screen readers by its process and state, its title describes it.
  await expect(processItem(page, 'env-check')).toHaveAccessibleName(
    /^env-check: exited, exited with code 0 after \d+ ms$/,
  )
  await expect(processItem(page, 'env-check')).toHaveAccessibleDescription(
    'Alt+↑ / Alt+↓ move between processes',
  )
  // The header names what the environment changes (names only: values can be secrets).
  const envLine = page.getByText('env: sets FOO; unsets CORRAL_E2E_UNSET', { exact: true })
  await expect(envLine).toBeVisible()
  await expect(envLine).toHaveAttribute('title', 'env: sets FOO; unsets CORRAL_E2E_UNSET')
})

test('without "Run in shell", quoting splits arguments and nothing is expanded', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, { command: `printf '[%s]' 'a b' "$HOME" c\\ d`, name: 'noshell' })
  await expect(output(page)).toContainText('[a b][$HOME][c d]')
})

test('an invalid environment line is reported in the form and nothing starts', async ({ app }) => {
  const { page } = app
  await page.getByRole('textbox', { name: 'Command' }).fill('echo hi')
  await page.getByRole('textbox', { name: 'Environment' }).fill('not a pair')
  await page.getByRole('button', { name: 'Run' }).click()
  await expect(page.getByRole('alert')).toContainText('Environment line 1: expected KEY=VALUE')
  await expect(page.getByRole('list', { name: 'Processes' }).getByRole('listitem')).toHaveCount(0)
})

test("at the desktop window's smallest width the name shows whole and controls wrap in groups", async ({
  app,
}) => {
  const { page } = app
  // The Electron window's minimum width (src/main/index.ts).
  await page.setViewportSize({ width: 720, height: 600 })
  await runCommand(page, { command: 'sleep 60', name: 'api server' })
  const title = page.getByRole('heading', { level: 1 })
  await expect(title).toHaveText('api server')
  const cut = await title.evaluate((el) => el.scrollWidth - el.clientWidth)
  expect(cut).toBeLessThanOrEqual(0)
  const top = async (name: string | RegExp): Promise<number> =>
    (await page.getByRole('button', { name, exact: true }).boundingBox())!.y
  // Buttons that belong together stay on one row when their bar wraps.
  for (const group of [
    ['stdout', 'stderr', 'Timestamps', 'Wrap'],
    ['Interrupt', 'Stop', 'Kill', 'Restart'],
  ]) {
    const rows = await Promise.all(group.map((name) => top(name)))
    expect(new Set(rows.map(Math.round)).size).toBe(1)
  }
  // The output's tools take two rows, not three: search above, filters with Clear view below.
  const [filters, clear, search] = await Promise.all([
    top('Wrap'),
    top('Clear view'),
    page.getByRole('textbox', { name: 'Search output' }).boundingBox(),
  ])
  expect(Math.round(clear)).toBe(Math.round(filters))
  expect(filters).toBeGreaterThan(search!.y + search!.height - 1)
  // No divider is left dangling at the end of a row the next group wrapped away from.
  await expect(page.locator('.output-toolbar .tool-divider')).toBeHidden()
  await expect(page.locator('.controls-bar .divider')).toBeHidden()
  await page.setViewportSize({ width: 1280, height: 600 })
  await expect(page.locator('.output-toolbar .tool-divider')).toBeVisible()
  await expect(page.locator('.controls-bar .divider')).toBeVisible()
  await page.getByRole('button', { name: 'Kill', exact: true }).click()
  await expect(processItem(page, 'api server')).toContainText('killed')
})

test('the warm-up for the first view runs while the page is idle and leaves nothing behind', async ({
  app,
}) => {
  const { page } = app
  await expect(newProcessForm(page).getByRole('button', { name: 'Run' })).toBeVisible()
  // It ran (once), and took the time an idle page can spare.
  await expect
    .poll(() =>
      page.evaluate(
        (mark) =>
          performance
            .getEntriesByType('measure')
            .filter((m) => m.name === mark)
            .map((m) => m.duration),
        WARM_UP_MARK,
      ),
    )
    .toHaveLength(1)
  // Nothing it laid out is left in the page, for layout or for a screen reader.
  const extra = await page.evaluate(() =>
    [...document.body.children]
      .filter((el) => el.id !== 'root' && el.tagName !== 'SCRIPT')
      .map((el) => el.outerHTML.slice(0, 80)),
  )
  expect(extra).toEqual([])
  // The first run still shows its output as usual.
  await runCommand(page, { command: 'echo warmed', name: 'warmed' })
  await expect(output(page)).toContainText('warmed')
})
