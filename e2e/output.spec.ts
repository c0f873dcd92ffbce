import { readFileSync } from 'node:fs'
import { expect, test } from './fixtures'
import {
  copySelection,
  loadSkippedOutput,
  processDiagnostics,
  outputTools,
  rowTexts,
  searchBox,
  searchStatus,
  selectAllRows,
  streamRows,
  toggle,
} from './output-helpers'
import { output, processItem, runCommand } from './ui'

test('search counts matches, moves through them with buttons and keys, highlights them', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, {
    // Quotes split the words so the echoed command line does not match too.
    command: `printf 'ap''ple pie\\nbanana\\nAp''ple tart\\ncherry\\nap''ple ap''ple\\n'`,
    shell: true,
    name: 'fruit',
  })
  const log = output(page)
  await expect(log).toContainText('apple apple')
  await searchBox(page).fill('apple')
  await expect(searchStatus(page)).toHaveText('1 of 4')
  await expect(log.locator('mark')).toHaveCount(4)
  await expect(log.locator('mark.current')).toHaveCount(1)
  await expect(log.locator('mark.current')).toHaveText('apple')

  await outputTools(page).getByRole('button', { name: 'Next match' }).click()
  await expect(searchStatus(page)).toHaveText('2 of 4')
  await expect(log.locator('mark.current')).toHaveText('Apple')
  await searchBox(page).press('Enter')
  await expect(searchStatus(page)).toHaveText('3 of 4')
  await searchBox(page).press('Enter')
  await searchBox(page).press('Enter')
  await expect(searchStatus(page)).toHaveText('1 of 4')
  await searchBox(page).press('Shift+Enter')
  await expect(searchStatus(page)).toHaveText('4 of 4')
  await outputTools(page).getByRole('button', { name: 'Previous match' }).click()
  await expect(searchStatus(page)).toHaveText('3 of 4')

  const matchCase = toggle(page, 'Match case')
  await matchCase.click()
  await expect(matchCase).toHaveAttribute('aria-pressed', 'true')
  await expect(searchStatus(page)).toHaveText(/of 3$/)
  await matchCase.click()

  await toggle(page, 'Regular expression').click()
  await searchBox(page).fill('^(banana|cherry)$')
  await expect(searchStatus(page)).toHaveText(/of 2$/)
  await searchBox(page).fill('(')
  await expect(searchStatus(page)).toHaveText('Invalid pattern')
  await searchBox(page).fill('durian')
  await expect(searchStatus(page)).toHaveText('No results')
})

test('a long match count fits beside the search toggles', async ({ app }) => {
  const { page } = app
  await runCommand(page, { command: 'seq 100000 130000', name: 'numbers' })
  await expect(output(page)).toContainText('exited with code 0')
  await searchBox(page).fill('1')
  await searchBox(page).press('Shift+Enter')
  await expect(searchStatus(page)).toHaveText(/^[\d,]{6} of [\d,]{6}$/)
  const status = await searchStatus(page).evaluate((el) => ({
    overflow: el.scrollWidth - el.clientWidth,
    right: el.getBoundingClientRect().right,
  }))
  const matchCase = await toggle(page, 'Match case').boundingBox()
  expect(status.overflow).toBeLessThanOrEqual(0)
  expect(status.right).toBeLessThanOrEqual(matchCase!.x)
})

test('stdout and stderr filters hide and show each stream', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `echo out-'one'; echo err-'one' >&2; sleep 0.05; echo out-'two'`,
    shell: true,
    name: 'streams',
  })
  const log = output(page)
  await expect(log).toContainText('out-two')
  await expect(log).toContainText('err-one')
  const stdout = toggle(page, 'stdout')
  await expect(stdout).toHaveAttribute('aria-pressed', 'true')
  await stdout.click()
  await expect(stdout).toHaveAttribute('aria-pressed', 'false')
  await expect(log).not.toContainText('out-one')
  await expect(log).toContainText('err-one')
  await expect(streamRows(page, 'stdout')).toHaveCount(0)
  await toggle(page, 'stderr').click()
  await expect(log).not.toContainText('err-one')
  // Corral's own lines stay.
  await expect(streamRows(page, 'system').first()).toBeVisible()
  await stdout.click()
  await toggle(page, 'stderr').click()
  await expect(log).toContainText('out-one')
  await expect(log).toContainText('err-one')
})

test('timestamps show each line’s arrival time and are left out of a copy', async ({ app }) => {
  const { page } = app
  await runCommand(page, { command: `printf 'first\\nsecond\\n'`, shell: true, name: 'times' })
  const log = output(page)
  await expect(log).toContainText('second')
  await expect(log.locator('.row-time')).toHaveCount(0)
  await toggle(page, 'Timestamps').click()
  const stamps = log.locator('[data-stream="stdout"] .row-time')
  await expect(stamps).toHaveCount(2)
  await expect(stamps.first()).toHaveText(/^\d\d:\d\d:\d\d\.\d{3}$/)
  await expect(stamps.first()).toHaveCSS('user-select', 'none')
  await selectAllRows(page)
  const copied = await copySelection(page)
  expect(copied).toContain('first\nsecond')
  expect(copied).not.toMatch(/\d\d:\d\d:\d\d\.\d{3}/)
})

test('wrap toggle wraps a long line onto several rows', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `python3 -c "print('word ' * 400); print('short')"`,
    name: 'wide',
  })
  const log = output(page)
  await expect(log).toContainText('short')
  const longRow = log.locator('[data-stream="stdout"]').first()
  expect((await longRow.boundingBox())!.height).toBeLessThan(20)
  await toggle(page, 'Wrap').click()
  await expect(toggle(page, 'Wrap')).toHaveAttribute('aria-pressed', 'true')
  await expect.poll(async () => (await longRow.boundingBox())!.height).toBeGreaterThan(40)
  // The short line after it is still shown whole, below the wrapped one.
  await expect(log.getByText('short', { exact: true })).toBeVisible()
  await toggle(page, 'Wrap').click()
  await expect.poll(async () => (await longRow.boundingBox())!.height).toBeLessThan(20)
})

test('wrapping a long line in a short output still shows the lines after it', async ({ app }) => {
  const { page } = app
  // Four rows at the fixed height (90 px with the exit line), one of them wrapped onto many.
  await runCommand(page, {
    command: `python3 -c "print('first'); print('a' * 4000); print('LAST LINE')"`,
    name: 'one-long',
  })
  const log = output(page)
  await expect(log).toContainText('exited with code 0')
  await toggle(page, 'Wrap').click()
  const longRow = log.locator('[data-stream="stdout"]').nth(1)
  await expect.poll(async () => (await longRow.boundingBox())!.height).toBeGreaterThan(200)
  // Painted where they are laid out, not clipped away: the element drawn at the middle of
  // each line is that line (clipped content is not hit, whatever its box says).
  const drawnAt = (text: string, exact: boolean) =>
    log.getByText(text, { exact }).evaluate((el) => {
      const box = el.getBoundingClientRect()
      const hit = document.elementFromPoint(box.left + 5, box.top + box.height / 2)
      const row = el.closest('[data-stream]') ?? el
      return hit !== null && row.contains(hit)
    })
  await expect.poll(() => drawnAt('LAST LINE', true)).toBe(true)
  await expect.poll(() => drawnAt('exited with code 0', false)).toBe(true)
  await toggle(page, 'Wrap').click()
  await expect.poll(async () => (await longRow.boundingBox())!.height).toBeLessThan(20)
})

test('follows the tail; scrolling up pauses and shows "Jump to latest", which resumes', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, {
    command: `seq 1 3000; sleep 1; echo tail-after-pause`,
    shell: true,
    name: 'follow',
  })
  const log = output(page)
  await expect(log.getByText('3000', { exact: true })).toBeVisible()
  const jump = page.getByRole('button', { name: /Jump to latest/ })
  await expect(jump).toHaveCount(0)
  await log.hover()
  await page.mouse.wheel(0, -2000)
  await expect(jump).toBeVisible()
  // While paused, new output does not move the view.
  await expect(log.getByText('3000', { exact: true })).toBeHidden()
  await expect(log).not.toContainText('tail-after-pause')
  await page.waitForTimeout(1300)
  await expect(log).not.toContainText('tail-after-pause')
  await jump.click()
  await expect(log).toContainText('tail-after-pause')
  await expect(jump).toHaveCount(0)
  // Scrolling back to the bottom by hand also resumes following.
  await page.mouse.wheel(0, -500)
  await expect(jump).toBeVisible()
  await log.evaluate((el) => (el.scrollTop = el.scrollHeight))
  await expect(jump).toHaveCount(0)
})

test('text selected in a followed log stays selected on that text while new lines come', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, {
    command: 'seq 1 100; sleep 1; echo one more; sleep 0.3; echo and another',
    shell: true,
    name: 'select',
  })
  const log = output(page)
  await expect(log.getByText('100', { exact: true })).toBeVisible()
  await log.getByText('95', { exact: true }).evaluate((row) => {
    const range = document.createRange()
    range.selectNodeContents(row)
    window.getSelection()!.removeAllRanges()
    window.getSelection()!.addRange(range)
  })
  await expect(log.getByText('and another', { exact: true })).toBeVisible()
  await expect(log).toContainText('exited with code 0')
  // The rows moved up; the selected one kept its element, so the selection is still on "95".
  expect(await page.evaluate(() => window.getSelection()!.toString())).toBe('95')
})

test('a progress bar redrawn with \\r stays one updated line', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `for i in 10 20 30 40 50 60 70 80 90 100; do printf '\\rDownloading %3d%%' $i; sleep 0.03; done; printf '\\n'; echo finished`,
    shell: true,
    name: 'progress',
  })
  await expect(streamRows(page, 'stdout').getByText('finished', { exact: true })).toBeVisible()
  const rows = (await streamRows(page, 'stdout').allTextContents()).filter((t) =>
    t.includes('Downloading'),
  )
  expect(rows).toEqual(['Downloading 100%'])
})

test('ANSI colours and styles are rendered, escape sequences never show', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `printf '\\033[31mred-text\\033[0m \\033[1mbold-text\\033[0m \\033[38;2;0;128;255mtrue-text\\033[0m\\033[2K\\033]0;title\\007 end\\n'`,
    shell: true,
    name: 'colours',
  })
  const log = output(page)
  // Exactly the text: no `[31m`, `[2K` or window title left over.
  await expect(streamRows(page, 'stdout')).toHaveText(['red-text bold-text true-text end'])
  const red = log.getByText('red-text', { exact: true })
  const color = await red.evaluate((el) => getComputedStyle(el).color)
  const [r, g, b] = color.match(/\d+/g)!.map(Number)
  expect(r).toBeGreaterThan(150)
  expect(r).toBeGreaterThan(g + 80)
  expect(r).toBeGreaterThan(b + 80)
  await expect(log.getByText('bold-text', { exact: true })).toHaveCSS('font-weight', '700')
  await expect(log.getByText('true-text', { exact: true })).toHaveCSS('color', 'rgb(0, 128, 255)')
})

test('URLs in output are links that open in a new window', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `echo 'docs at https://example.com/guide?x=1.'`,
    shell: true,
    name: 'url',
  })
  const link = streamRows(page, 'stdout').getByRole('link', {
    name: 'https://example.com/guide?x=1',
  })
  await expect(link).toBeVisible()
  await expect(link).toHaveAttribute('href', 'https://example.com/guide?x=1')
  await expect(link).toHaveAttribute('target', '_blank')
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer')
})

test('Clear view empties the view only; new output still shows', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `python3 -c "import sys;print('before','clear');[print('echo',l.strip()) for l in sys.stdin]"`,
    name: 'clearing',
  })
  const log = output(page)
  await expect(log).toContainText('before clear')
  await outputTools(page).getByRole('button', { name: 'Clear view' }).click()
  await expect(log).not.toContainText('before')
  await expect(log).toContainText('No output yet.')
  const stdin = page.getByRole('textbox', { name: 'Standard input' })
  await stdin.fill('after-clear')
  await stdin.press('Enter')
  await expect(log).toContainText('echo after-clear')
  await expect(log).not.toContainText('before')
})

test('export downloads the run as plain text, with ANSI, or as JSON lines', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `printf 'one \\033[32mgreen\\033[0m\\n'; printf 'two\\n' >&2`,
    shell: true,
    name: 'exported',
  })
  await expect(page.getByText(/exited with code 0/).first()).toBeVisible()
  const exportAs = async (label: string) => {
    await outputTools(page).getByRole('button', { name: 'Export' }).click()
    const downloading = page.waitForEvent('download')
    await page.getByRole('menuitem', { name: label }).click()
    const download = await downloading
    return {
      name: download.suggestedFilename(),
      text: readFileSync((await download.path())!, 'utf8'),
    }
  }
  const text = await exportAs('Plain text')
  expect(text.name).toBe('exported-run1.log')
  expect(text.text).toBe('one green\ntwo\n')
  const ansi = await exportAs('Text with ANSI colours')
  expect(ansi.name).toBe('exported-run1.ansi.log')
  expect(ansi.text).toBe('one \x1b[32mgreen\x1b[0m\ntwo\n')
  const jsonl = await exportAs('JSON lines')
  expect(jsonl.name).toBe('exported-run1.jsonl')
  const records = jsonl.text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; stream: string; time: number; text: string })
  // Corral's own lines come along in JSON lines, marked as such.
  expect(records.map((r) => [r.stream, r.text])).toEqual([
    ['system', expect.stringMatching(/^▶ started /)],
    ['stdout', 'one \x1b[32mgreen\x1b[0m\n'],
    ['stderr', 'two\n'],
    ['system', expect.stringMatching(/^■ exited with code 0 after /)],
  ])
  expect(records.map((r) => r.seq)).toEqual([...records.map((r) => r.seq)].sort((a, b) => a - b))
  expect(typeof records[1].time).toBe('number')
})

test('a very long line is cut for display and "Show all" shows all of it', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: `python3 -c "print('x' * 100000 + 'END'); print('next')"`,
    name: 'longline',
  })
  const log = output(page)
  await expect(log).toContainText('next')
  await expect(log).toContainText('line truncated, 34,467 more characters')
  await log.getByRole('button', { name: 'Show all' }).click()
  const dialog = page.getByRole('dialog', { name: 'Full line' })
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText('100,003 characters')
  const full = await dialog.locator('pre').textContent()
  expect(full).toBe('x'.repeat(100000) + 'END')
  await dialog.getByRole('button', { name: 'Close' }).click()
  await expect(dialog).toBeHidden()
})

test('more rows than the browser can lay out scroll with a scaled scrollbar, both ends exact', async ({
  app,
}) => {
  test.setTimeout(60_000)
  const { page } = app
  await runCommand(page, { command: 'seq 1 700000', name: 'huge' })
  const log = output(page)
  await expect(log.getByText(/exited with code 0/)).toBeVisible({ timeout: 30_000 })
  await expect(log.getByText('700000', { exact: true })).toBeVisible()
  // Read the whole run back if the host skipped part of it for this (slow) page.
  await loadSkippedOutput(page, 'huge')
  // Every line whole again, none split where output was skipped: the numbers, started, exited.
  expect((await processDiagnostics(page, 'huge'))?.lines).toBe(700_002)
  await log.evaluate((el) => (el.scrollTop = 0))
  await expect(log.getByText('1', { exact: true })).toBeVisible()
  await expect(log.getByText('2', { exact: true })).toBeVisible()
  // The spacer is capped, yet the bottom still shows the very last rows.
  expect(await log.evaluate((el) => el.scrollHeight)).toBeLessThan(700000 * 18)
  await log.evaluate((el) => (el.scrollTop = el.scrollHeight))
  await expect(log.getByText('700000', { exact: true })).toBeVisible()
  // Half way down shows the middle.
  await log.evaluate((el) => (el.scrollTop = (el.scrollHeight - el.clientHeight) / 2))
  await expect.poll(async () => Number((await rowTexts(page))[12])).toBeGreaterThan(330000)
  await expect.poll(async () => Number((await rowTexts(page))[12])).toBeLessThan(370000)
  // The wheel moves by pixels, not by scaled jumps.
  const before = Number((await rowTexts(page))[12])
  await log.hover()
  await page.mouse.wheel(0, 18 * 5)
  await expect.poll(async () => Number((await rowTexts(page))[12]) - before).toBe(5)
})

test("a page opened after a run reads it all back from disk, Corral's own lines included", async ({
  app,
}) => {
  test.setTimeout(60_000)
  const { page } = app
  await runCommand(page, { command: 'seq 1 400000', name: 'earlier' })
  await expect(output(page).getByText(/exited with code 0/)).toBeVisible({ timeout: 30_000 })
  // A new page learns of the run only now: more than it is sent at first (2 MiB), so the
  // start of the run, "started" line and all, is a marker to load from the run's log.
  const fresh = await page.context().newPage()
  await fresh.goto(page.url())
  await processItem(fresh, 'earlier').click()
  await expect(output(fresh).getByText(/exited with code 0/)).toBeVisible()
  await expect.poll(async () => (await processDiagnostics(fresh, 'earlier'))?.gaps).toBe(1)
  await loadSkippedOutput(fresh, 'earlier')
  expect((await processDiagnostics(fresh, 'earlier'))?.lines).toBe(400_002)
  const log = output(fresh)
  await log.evaluate((el) => (el.scrollTop = 0))
  await expect
    .poll(async () => (await rowTexts(fresh)).slice(0, 2))
    .toEqual([expect.stringMatching(/^▶ started seq 1 400000 \(pid \d+\)$/), '1'])
  await fresh.close()
})

test('a process that flooded in the background shows its last lines when it comes on screen', async ({
  app,
}) => {
  test.setTimeout(60_000)
  const { page } = app
  const gapsOf = async (name: string): Promise<number | null> =>
    (await processDiagnostics(page, name))?.gaps ?? null
  // It floods without pause for 4 seconds once another process has taken the screen, then
  // prints a last few lines.
  const flood = [
    'import sys,time,itertools',
    'time.sleep(1)',
    'end=time.time()+4',
    'ticks=itertools.takewhile(lambda _: time.time()<end, itertools.count())',
    '[sys.stdout.write("y"*99+"\\n") for _ in ticks]',
    '[print("end",i) for i in range(1,1001)]',
    'print("last-line")',
  ].join(';')
  await runCommand(page, { command: `python3 -c '${flood}'`, name: 'background', shell: true })
  await runCommand(page, { command: 'sleep 300', name: 'foreground' })
  await expect(processItem(page, 'background')).toContainText('exited', { timeout: 40_000 })
  // Held back while it flooded, not caught up piece by piece: one marker (a pause of the busy
  // machine may add one), not one per half second.
  await expect.poll(() => gapsOf('background')).toBeGreaterThanOrEqual(1)
  expect(await gapsOf('background')).toBeLessThanOrEqual(3)
  // On screen, its last lines show right above the exit, not a marker.
  await processItem(page, 'background').click()
  await expect(output(page).getByText(/exited with code 0/)).toBeVisible()
  await expect
    .poll(async () => {
      const rows = await rowTexts(page)
      const last = rows.indexOf('last-line')
      return last > 0 ? rows.slice(last - 2, last + 1) : rows.slice(-3)
    })
    .toEqual(['end 999', 'end 1000', 'last-line'])
})

test('a flood followed on screen ends with its last lines right above the exit line', async ({
  app,
}) => {
  test.setTimeout(60_000)
  const { page } = app
  // 32 MiB of 8-byte lines, far more than the page takes in, so the host skips most of it for
  // this page; written by `cat` in 128 KiB blocks, its last chunk is likely a whole 256 KiB
  // read, as big as the page's catch-up.
  const command = 'f=$(mktemp); seq -w 1 4194304 > "$f"; cat "$f"; rm -f "$f"'
  await runCommand(page, { command, name: 'flood', shell: true })
  await expect(output(page).getByText(/exited with code 0/)).toBeVisible({ timeout: 30_000 })
  // The last lines came with the exit line, not a marker in their place.
  await expect
    .poll(async () => (await rowTexts(page)).slice(-3))
    .toEqual(['4194303', '4194304', expect.stringMatching(/^■ exited with code 0/)])
})
