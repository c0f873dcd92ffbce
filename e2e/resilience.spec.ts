import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { output, processItem, runCommand } from './ui'

/** The line numbers (`line-N`) visible in the log, top to bottom. */
async function visibleLineNumbers(page: Page): Promise<number[]> {
  const text = await output(page).innerText()
  return (text.match(/line-\d+/g) ?? []).map((t) => Number(t.slice(5)))
}

test('reloading and reopening the page during a flood: the child is unaffected, the view resumes with no gap or duplicate', async ({
  app,
}) => {
  const { page } = app
  // One million numbered lines over a few seconds, so the reloads land mid-flood.
  const command =
    'for i in $(seq 0 99); do seq -f "line-%.0f" $((i*10000+1)) $((i*10000+10000)); sleep 0.03; done'
  await runCommand(page, { command, shell: true, name: 'flood' })
  await expect(output(page)).toContainText(/line-\d{5}/)
  await page.reload()
  await expect(output(page)).toContainText(/line-\d+/)
  await page.reload()

  // A crash-like loss of the tab: a brand new page on the same URL.
  const fresh = await page.context().newPage()
  await fresh.goto(page.url())
  await processItem(fresh, 'flood').click()
  await expect(processItem(fresh, 'flood')).toContainText('exited', { timeout: 60_000 })
  await expect(fresh.getByText(/exited with code 0/).first()).toBeVisible()
  await expect(output(fresh)).toContainText('line-1000000')

  for (const p of [page, fresh]) {
    await processItem(p, 'flood').click()
    await expect(output(p)).toContainText('line-1000000')
    const seen = await visibleLineNumbers(p)
    expect(seen.length).toBeGreaterThan(10)
    // Consecutive: nothing missing, nothing twice, ending at the last line.
    expect(seen).toEqual(seen.map((_, i) => seen[0] + i))
    expect(seen.at(-1)).toBe(1_000_000)
  }
  await fresh.close()
})
