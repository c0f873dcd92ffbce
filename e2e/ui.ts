import { expect, type Locator, type Page } from '@playwright/test'

/** What to type into the new-process form. */
export interface RunOptions {
  command: string
  name?: string
  cwd?: string
  env?: string
  shell?: boolean
}

/** Fill the new-process form and press Run; waits for the process to appear in the list. */
export async function runCommand(page: Page, opts: RunOptions): Promise<void> {
  await page.getByRole('textbox', { name: 'Command' }).fill(opts.command)
  await page.getByRole('textbox', { name: 'Working directory' }).fill(opts.cwd ?? '')
  await page.getByRole('textbox', { name: 'Environment' }).fill(opts.env ?? '')
  await page.getByRole('textbox', { name: 'Name' }).fill(opts.name ?? '')
  await page.getByRole('checkbox', { name: 'Run in shell' }).setChecked(opts.shell ?? false)
  await page.getByRole('button', { name: 'Run', exact: true }).click()
  if (opts.name) await expect(processItem(page, opts.name)).toBeVisible()
}

/** The selected process's output. */
export function output(page: Page): Locator {
  return page.getByRole('log', { name: 'Output' })
}

/** The list item of a process, found by its name. */
export function processItem(page: Page, name: string): Locator {
  return page.getByRole('list', { name: 'Processes' }).getByRole('listitem').filter({ hasText: name })
}
