import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { allPids, liveGroupMembers, procStat } from '../test/proc'
import { expect, test } from './fixtures'
import { fillSpec, output, processItem, processStatus, runCommand, saveDefinition } from './ui'

/** The host's watchdog: its child whose command line names it. */
function watchdogsOf(hostPid: number): number[] {
  return allPids().filter((pid) => {
    if (Number(procStat(pid)?.[1]) !== hostPid) return false
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('corral-watchdog')
    } catch {
      return false
    }
  })
}

/** The state text of a process in the list. */
function listState(page: Page, name: string) {
  return processItem(page, name).locator('.process-state')
}

const color = (page: Page, name: string) =>
  listState(page, name).evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color)

/** The colour of `name`'s state, read in the same moment as the state shows `state`. */
async function colorIn(page: Page, name: string, state: string): Promise<string> {
  let seen = ''
  await expect
    .poll(async () => {
      const [text, c] = await listState(page, name).evaluate((el) => [
        el.textContent,
        el.ownerDocument.defaultView!.getComputedStyle(el).color,
      ])
      seen = c ?? ''
      return text
    })
    .toBe(state)
  return seen
}

test.describe('saved definitions across host restarts', () => {
  test.skip(
    ({ corralTarget }) => corralTarget === 'electron',
    'restarting the host needs the web target',
  )

  test('a definition saved with Autostart is still listed after a restart and autostarts', async ({
    app,
  }) => {
    const { page } = app
    await saveDefinition(page, { command: 'sleep 300', name: 'keeper', autostart: true })
    // Autostart also starts it now; the list marks it as saved.
    await expect(listState(page, 'keeper')).toHaveText('running')
    await expect(processItem(page, 'keeper').getByText('saved', { exact: true })).toBeVisible()

    await app.restartHost()
    await expect(processItem(page, 'keeper')).toBeVisible()
    await expect(listState(page, 'keeper')).toHaveText('running')
    await expect(processItem(page, 'keeper').getByText('saved', { exact: true })).toBeVisible()

    await processItem(page, 'keeper').click()
    await page.getByRole('tab', { name: 'Runs' }).click()
    const rows = page.getByRole('table', { name: 'Runs' }).getByRole('row')
    await expect(rows).toHaveCount(3)
    // Newest first: this life's run was started by autostart and is the live one.
    await expect(rows.nth(1)).toContainText('autostart')
    await expect(rows.nth(1)).toContainText('live')
    await expect(rows.nth(2)).toContainText('user')
  })

  test('an invalid definitions file gives a warning naming the file, and the app still works', async ({
    app,
  }) => {
    const { page } = app
    const file = path.join(app.dataDir!, 'definitions.json')
    writeFileSync(file, '{ not json')
    await app.restartHost()
    const banner = page.getByRole('alert').filter({ hasText: 'definitions.json' })
    await expect(banner).toContainText(file)
    await expect(banner).toContainText('not valid JSON')

    await runCommand(page, { command: 'echo still-works', name: 'after' })
    await expect(output(page)).toContainText('still-works')
    await page.getByRole('button', { name: 'Dismiss warnings' }).click()
    await expect(banner).toHaveCount(0)
  })

  test('groups left by a host killed with its watchdog are reported and can be ended', async ({
    app,
  }) => {
    const { page } = app
    let sleepPid: number | null = null
    const strays: number[] = []
    try {
      await runCommand(page, { command: 'sleep 300', name: 'left-behind' })
      await expect(listState(page, 'left-behind')).toHaveText('running')
      const pidText = await page.locator('.facts div', { hasText: 'pid' }).locator('dd').innerText()
      sleepPid = Number(pidText)
      expect(sleepPid).toBeGreaterThan(1)

      // The host records the group on disk just after the start (off its event loop); the
      // record is what a next start finds, so the kill below comes after it.
      const groupsFile = path.join(app.dataDir!, 'process-groups.json')
      await expect
        .poll(() => {
          try {
            return readFileSync(groupsFile, 'utf8')
          } catch {
            return ''
          }
        })
        .toContain(`"pgid":${sleepPid}`)
      const host = app.hostProcess!
      const watchdogs = watchdogsOf(host.pid!)
      strays.push(...watchdogs)
      expect(watchdogs).toHaveLength(1)
      process.kill(watchdogs[0], 'SIGKILL')
      const exited = new Promise((r) => host.once('exit', r))
      host.kill('SIGKILL')
      await exited
      // Nothing was left to end the group: it is an orphan now.
      expect(liveGroupMembers(sleepPid)).toContain(sleepPid)

      await app.restartHost()
      const banner = page.getByRole('alert').filter({ hasText: 'previous session' })
      await expect(banner).toContainText('1 process from a previous session is still running')
      await expect(banner).toContainText('left-behind')
      await expect(banner).toContainText('sleep 300')
      await expect(banner).toContainText(String(sleepPid))
      await banner.getByRole('button', { name: 'End them' }).click()
      await expect(banner).toHaveCount(0)
      expect(liveGroupMembers(sleepPid)).toEqual([])
    } finally {
      for (const pid of strays) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // Already gone, as it should be.
        }
      }
      if (sleepPid !== null && liveGroupMembers(sleepPid).length > 0)
        process.kill(-sleepPid, 'SIGKILL')
    }
  })
})

test('a crashing program shows backoff with a countdown and Retry now, then fatal', async ({
  app,
}) => {
  test.setTimeout(45_000)
  const { page } = app
  const status = processStatus(page)
  /** The countdown to the next retry and the failed starts so far, from one read. */
  const backoff = async (): Promise<{ left: number | null; starts: number | null }> => {
    const text = await status.innerText()
    const left = /restarting in (\d+) s/.exec(text)?.[1]
    const starts = /failed starts: (\d) of 5/.exec(text)?.[1]
    return { left: left ? Number(left) : null, starts: starts ? Number(starts) : null }
  }
  const failedStarts = async (): Promise<number | null> => (await backoff()).starts
  await runCommand(page, { command: 'false', name: 'crasher', restart: 'on-failure' })
  await expect(listState(page, 'crasher')).toHaveText('backoff')
  await expect(status).toContainText(/restarting in \d s · failed starts: [1-5] of 5/)
  const retry = page.getByRole('button', { name: 'Retry now' })
  await expect(retry).toBeVisible()
  // Read with the state: between retries it is "starting" for a moment.
  const backoffColor = await colorIn(page, 'crasher', 'backoff')

  // The policy retries by itself (after 1 s, then 2 s, 4 s…): the count goes up, and a wait
  // of 2 s or more shows its countdown tick: a read lower than the one before it, between the
  // same two failed starts. Read often, so that a busy machine's slow reads cannot step over
  // a second of the countdown (and into the next, longer wait).
  await expect.poll(failedStarts).toBeGreaterThanOrEqual(2)
  let before: { left: number | null; starts: number | null } | null = null
  await expect
    .poll(
      async () => {
        const now = await backoff()
        const ticked =
          now.left !== null &&
          now.starts !== null &&
          before?.left != null &&
          now.starts === before.starts &&
          now.left < before.left
        before = now
        return ticked
      },
      { timeout: 15_000, intervals: [100] },
    )
    .toBe(true)

  // Retry now until the policy gives up: waiting would take 4 + 8 + 16 s, more than allowed here.
  await expect
    .poll(
      async () => {
        if (await retry.isVisible()) await retry.click({ timeout: 1000 }).catch(() => {})
        return listState(page, 'crasher').innerText()
      },
      { timeout: 20_000, intervals: [250] },
    )
    .toBe('fatal')
  await expect(status).toContainText('gave up after 6 failed starts in a row')
  await expect(retry).toHaveCount(0)
  const fatalColor = await color(page, 'crasher')

  await runCommand(page, { command: 'sleep 300', name: 'calm' })
  await expect(listState(page, 'calm')).toHaveText('running')
  const runningColor = await color(page, 'calm')
  // Backoff (amber) and fatal (red) stand out from each other and from a healthy process.
  expect(new Set([backoffColor, fatalColor, runningColor]).size).toBe(3)
})

test('Stop during backoff goes straight to stopped', async ({ app }) => {
  const { page } = app
  await runCommand(page, { command: 'false', name: 'looper', restart: 'always' })
  await expect(listState(page, 'looper')).toHaveText('backoff')
  const stop = page.getByRole('button', { name: 'Stop', exact: true })
  await expect(stop).toBeEnabled()
  await stop.click()
  await expect(listState(page, 'looper')).toHaveText('stopped')
  await expect(page.getByRole('button', { name: 'Retry now' })).toHaveCount(0)
  // The cancelled retry (due after 1 s) never happens.
  await page.waitForTimeout(1500)
  await expect(listState(page, 'looper')).toHaveText('stopped')
})

test('past runs are listed newest first and each can be viewed', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: 'echo "stamp $(date +%s%N)"; echo "complaint" >&2',
    shell: true,
    name: 'stamper',
  })
  const stamps = output(page).getByText(/^stamp \d+$/)
  await expect(stamps).toHaveCount(1)
  const first = await stamps.first().innerText()
  await expect(listState(page, 'stamper')).toHaveText('exited')
  await page.getByRole('button', { name: 'Restart' }).click()
  await expect(stamps).toHaveCount(2)
  const second = await stamps.nth(1).innerText()
  expect(second).not.toBe(first)

  await page.getByRole('tab', { name: 'Runs' }).click()
  const rows = page.getByRole('table', { name: 'Runs' }).getByRole('row')
  await expect(rows).toHaveCount(3)
  await expect(rows.nth(1)).toContainText('Run #2')
  await expect(rows.nth(2)).toContainText('Run #1')
  await expect(rows.nth(2)).toContainText('exited with code 0')
  await expect(rows.nth(2)).toContainText('user')

  await page.getByRole('button', { name: 'Run #1' }).click()
  await expect(page.getByRole('heading', { name: /^Run #1 — ended / })).toBeVisible()
  const past = page.getByRole('log', { name: 'Run output' })
  await expect(past).toContainText(first)
  await expect(past).not.toContainText(second)
  await expect(past.locator('[data-stream="stderr"]', { hasText: 'complaint' })).toBeVisible()

  await page.getByRole('button', { name: 'All runs' }).click()
  await page.getByRole('button', { name: 'Run #2' }).click()
  await expect(page.getByRole('log', { name: 'Run output' })).toContainText(second)
  await page.getByRole('button', { name: 'Back to live output' }).click()
  await expect(output(page)).toContainText(first)
  await expect(output(page)).toContainText(second)
  await expect(page.getByRole('tab', { name: 'Output' })).toHaveAttribute('aria-selected', 'true')
})

test('a definition can be edited, duplicated and deleted', async ({ app }) => {
  const { page } = app
  await saveDefinition(page, { command: 'echo alpha-out', name: 'alpha' })
  await expect(listState(page, 'alpha')).toHaveText('stopped')
  await expect(processStatus(page)).toHaveText('saved, not started yet')
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeVisible()

  await page.getByRole('button', { name: 'Edit' }).click()
  const edit = page.getByRole('form', { name: /^Edit/ })
  await expect(edit.getByRole('textbox', { name: 'Command' })).toHaveValue('echo alpha-out')
  await fillSpec(edit, {
    command: 'echo beta-out',
    name: 'beta',
    restart: 'on-failure',
    successCodes: '0, 3',
    stopSignal: 'SIGINT',
    graceSeconds: '2',
  })
  await edit.getByRole('button', { name: 'Save' }).click()
  await expect(edit).toHaveCount(0)
  await expect(processItem(page, 'beta')).toBeVisible()
  await expect(processItem(page, 'alpha')).toHaveCount(0)

  // What was saved comes back in the form, and is on disk.
  await page.getByRole('button', { name: 'Edit' }).click()
  await expect(edit.getByRole('textbox', { name: 'Success codes' })).toHaveValue('0, 3')
  await expect(edit.getByRole('combobox', { name: 'Stop signal' })).toHaveValue('SIGINT')
  await expect(edit.getByRole('textbox', { name: 'Grace period (s)' })).toHaveValue('2')
  await edit.getByRole('button', { name: 'Cancel' }).click()
  await expect(edit).toHaveCount(0)
  if (app.dataDir) {
    const saved = JSON.parse(readFileSync(path.join(app.dataDir, 'definitions.json'), 'utf8'))
    expect(saved.definitions.map((d: { spec: unknown }) => d.spec)).toEqual([
      {
        command: 'echo beta-out',
        name: 'beta',
        restart: 'on-failure',
        successCodes: [0, 3],
        stopSignal: 'SIGINT',
        stopGraceMs: 2000,
      },
    ])
  }

  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(output(page)).toContainText('beta-out')
  await expect(listState(page, 'beta')).toHaveText('exited')

  await page.getByRole('button', { name: 'Duplicate' }).click()
  await expect(processItem(page, 'beta copy')).toBeVisible()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('beta copy')
  await expect(processItem(page, 'beta copy').getByText('saved', { exact: true })).toBeVisible()
  await expect(listState(page, 'beta copy')).toHaveText('stopped')

  // Delete asks first; Cancel keeps it.
  await page.getByRole('button', { name: 'Delete' }).click()
  const confirm = page.getByRole('group', { name: 'Confirm delete' })
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused()
  await confirm.getByRole('button', { name: 'Cancel' }).click()
  await expect(processItem(page, 'beta copy')).toBeVisible()
  await page.getByRole('button', { name: 'Delete' }).click()
  await confirm.getByRole('button', { name: 'Yes, delete' }).click()
  await expect(processItem(page, 'beta copy')).toHaveCount(0)
  await expect(page.getByRole('list', { name: 'Processes' }).getByRole('listitem')).toHaveCount(1)

  // Editing an ad-hoc process saves it; its Remove becomes Delete.
  await runCommand(page, { command: 'echo adhoc-out', name: 'adhoc' })
  await expect(processItem(page, 'adhoc').getByText('saved', { exact: true })).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Remove' })).toBeVisible()
  await page.getByRole('button', { name: 'Edit' }).click()
  await edit.getByRole('button', { name: 'Save' }).click()
  await expect(processItem(page, 'adhoc').getByText('saved', { exact: true })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Delete' })).toBeVisible()
})

test('the form rejects bad supervision settings with an alert', async ({ app }) => {
  const { page } = app
  await runCommand(page, { command: 'echo nope', restart: 'on-failure', successCodes: '0, 300' })
  await expect(page.getByRole('alert')).toContainText('"300" is not an exit code')
  await runCommand(page, { command: 'echo nope', graceSeconds: 'soon' })
  await expect(page.getByRole('alert')).toContainText('Grace period')
  await expect(page.getByRole('list', { name: 'Processes' }).getByRole('listitem')).toHaveCount(0)
})
