import { expect, test } from './fixtures'
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
