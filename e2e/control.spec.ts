import { readdirSync, readFileSync } from 'node:fs'
import { expect, test } from './fixtures'
import { output, processItem, runCommand } from './ui'

/** Live (non-zombie) members of a process group, from /proc. */
function liveGroupMembers(pgid: number): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(rest[2]) === pgid && rest[0] !== 'Z') pids.push(Number(entry))
    } catch {
      // Ended while being read.
    }
  }
  return pids
}

test('Interrupt sends SIGINT', async ({ app }) => {
  const { page } = app
  await runCommand(page, { command: 'sleep 300', name: 'sleeper' })
  await expect(processItem(page, 'sleeper')).toContainText('running')
  await page.getByRole('button', { name: 'Interrupt' }).click()
  await expect(page.getByText(/killed by SIGINT/).first()).toBeVisible()
})

test('Stop reaches the whole process group and says how it ended', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: 'echo pid=$$; sleep 300 & sleep 301',
    shell: true,
    name: 'tree',
  })
  await expect(output(page)).toContainText(/pid=\d+/)
  const pid = Number(/pid=(\d+)/.exec(await output(page).innerText())![1])
  await expect.poll(() => liveGroupMembers(pid).length).toBeGreaterThanOrEqual(2)
  await page.getByRole('button', { name: 'Stop' }).click()
  await expect(processItem(page, 'tree')).toContainText('stopped')
  await expect(page.getByText(/killed by SIGTERM after/).first()).toBeVisible()
  expect(liveGroupMembers(pid)).toEqual([])
})

test('Kill sends SIGKILL at once, even to a process that ignores SIGTERM', async ({ app }) => {
  const { page } = app
  await runCommand(page, {
    command: "trap '' TERM; echo armed; sleep 300",
    shell: true,
    name: 'stubborn',
  })
  await expect(output(page)).toContainText('armed')
  await page.getByRole('button', { name: 'Kill' }).click()
  await expect(page.getByText(/killed by SIGKILL/).first()).toBeVisible({ timeout: 3000 })
})

test('several processes: the list shows each with its state; selecting shows its output; Restart runs it again', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, { command: 'echo first-output', name: 'first' })
  await runCommand(page, { command: 'sleep 300', name: 'second' })
  await expect(processItem(page, 'first')).toContainText('exited')
  await expect(processItem(page, 'second')).toContainText('running')
  await expect(page.getByRole('list', { name: 'Processes' }).getByRole('listitem')).toHaveCount(2)

  await processItem(page, 'first').click()
  await expect(output(page)).toContainText('first-output')
  await page.getByRole('button', { name: 'Restart' }).click()
  await expect(output(page).getByText('first-output', { exact: true })).toHaveCount(2)

  await processItem(page, 'second').click()
  await expect(output(page)).not.toContainText('first-output')
  await page.getByRole('button', { name: 'Kill' }).click()
  await expect(processItem(page, 'second')).toContainText('stopped')
})
