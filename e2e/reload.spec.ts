import { expect, test } from './fixtures'
import { processDiagnostics, type ProcessDiagnostics } from './output-helpers'
import { output, processItem, runCommand } from './ui'

test('reloading shows every process with its state and output, nothing duplicated or missing', async ({
  app,
}) => {
  const { page } = app
  // Tall enough that every row of both logs is rendered (the view is virtualised).
  await page.setViewportSize({ width: 1280, height: 2400 })
  await runCommand(page, {
    command: 'for i in $(seq 1 50); do echo line-$i; done',
    shell: true,
    name: 'counted',
  })
  await runCommand(page, {
    command: 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.05; done',
    shell: true,
    name: 'ticker',
  })
  await expect(output(page)).toContainText('tick-5')
  await page.reload()
  await expect(processItem(page, 'counted')).toContainText('exited')
  await expect(processItem(page, 'ticker')).toContainText('running')

  await processItem(page, 'ticker').click()
  await expect(output(page)).toContainText('tick-30')
  await page.getByRole('button', { name: 'Stop' }).click()
  await expect(processItem(page, 'ticker')).toContainText('stopped')
  // Every tick from 1 to the last exactly once, across the reload.
  const ticks = (await output(page).innerText()).match(/tick-\d+/g)!.map((t) => Number(t.slice(5)))
  expect(ticks).toEqual(ticks.map((_, i) => i + 1))

  await processItem(page, 'counted').click()
  await expect
    .poll(async () => (await output(page).innerText()).match(/line-\d+/g))
    .toEqual(Array.from({ length: 50 }, (_, i) => `line-${i + 1}`))
})

test('after a reload, a process not on screen gets the rest of its output when it comes on screen', async ({
  app,
}) => {
  const { page } = app
  // Four bursts of about 30 KB, each its own chunk: more in all than the page fetches at load
  // for a process not on screen (64 KiB), each less than the host sends a page before it
  // acknowledges (256 KiB), so none is skipped.
  await runCommand(page, {
    command: 'for i in 1 2 3 4; do seq -f "row-$i-%g" 1 3000; sleep 0.2; done',
    shell: true,
    name: 'big',
  })
  await expect(processItem(page, 'big')).toContainText('exited')
  await runCommand(page, { command: 'sleep 300', name: 'quiet' })
  const big = (): Promise<ProcessDiagnostics | null> => processDiagnostics(page, 'big')
  const all = (await big())!
  expect(all.gaps).toBe(0)
  expect(all.lines).toBeGreaterThan(12000)

  await page.reload()
  await expect(processItem(page, 'quiet')).toHaveAttribute('aria-current', 'true')
  // Its newest output, under a marker for the rest...
  await expect.poll(async () => (await big())?.gaps).toBe(1)
  expect((await big())!.lines).toBeLessThan(8000)
  // ...which fills in from the host once it is on screen: every line, no marker.
  await processItem(page, 'big').click()
  await expect.poll(big).toEqual({ ...all })
  await expect(output(page)).toContainText('row-4-3000')
  await expect(output(page)).not.toContainText('not shown')
})
