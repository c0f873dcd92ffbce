import { expect, type Locator, type Page } from '@playwright/test'

/** What to type into the new-process form. */
export interface RunOptions {
  command: string
  name?: string
  cwd?: string
  env?: string
  shell?: boolean
  /** Supervision settings under "More options"; left as they are when none is given. */
  restart?: 'never' | 'on-failure' | 'always'
  successCodes?: string
  stopSignal?: string
  graceSeconds?: string
  autostart?: boolean
}

/** The sidebar's New process form. */
export function newProcessForm(page: Page): Locator {
  return page.getByRole('form', { name: 'New process' })
}

/** Open a form's "More options" section if it is closed. */
export async function openMoreOptions(form: Locator): Promise<void> {
  const details = form.locator('details.more-options')
  if ((await details.getAttribute('open')) === null) await form.getByText('More options').click()
  await expect(form.getByRole('combobox', { name: 'Restart policy' })).toBeVisible()
}

/** Fill the spec fields of a form (New process or Edit). */
export async function fillSpec(form: Locator, opts: RunOptions): Promise<void> {
  await form.getByRole('textbox', { name: 'Command' }).fill(opts.command)
  await form.getByRole('textbox', { name: 'Working directory' }).fill(opts.cwd ?? '')
  await form.getByRole('textbox', { name: 'Environment' }).fill(opts.env ?? '')
  await form.getByRole('textbox', { name: 'Name' }).fill(opts.name ?? '')
  await form.getByRole('checkbox', { name: 'Run in shell' }).setChecked(opts.shell ?? false)
  const advanced = [
    opts.restart,
    opts.successCodes,
    opts.stopSignal,
    opts.graceSeconds,
    opts.autostart,
  ]
  if (advanced.every((v) => v === undefined)) return
  await openMoreOptions(form)
  await form.getByRole('combobox', { name: 'Restart policy' }).selectOption(opts.restart ?? 'never')
  const codes = form.getByRole('textbox', { name: 'Success codes' })
  if (await codes.isEnabled()) await codes.fill(opts.successCodes ?? '')
  await form
    .getByRole('combobox', { name: 'Stop signal' })
    .selectOption(opts.stopSignal ?? 'SIGTERM')
  await form.getByRole('textbox', { name: 'Grace period (s)' }).fill(opts.graceSeconds ?? '')
  await form.getByRole('checkbox', { name: 'Autostart' }).setChecked(opts.autostart ?? false)
}

/** Fill the new-process form and press Run; waits for the process to appear in the list. */
export async function runCommand(page: Page, opts: RunOptions): Promise<void> {
  const form = newProcessForm(page)
  await fillSpec(form, opts)
  await form.getByRole('button', { name: 'Run', exact: true }).click()
  if (opts.name) await expect(processItem(page, opts.name)).toBeVisible()
}

/** Fill the new-process form and press Save; waits for the definition to appear in the list. */
export async function saveDefinition(
  page: Page,
  opts: RunOptions & { name: string },
): Promise<void> {
  const form = newProcessForm(page)
  await fillSpec(form, opts)
  await form.getByRole('button', { name: 'Save', exact: true }).click()
  await expect(processItem(page, opts.name)).toBeVisible()
}

/** The selected process's output. */
export function output(page: Page): Locator {
  return page.getByRole('log', { name: 'Output' })
}

/** The list item of a process, found by its name. */
export function processItem(page: Page, name: string): Locator {
  return page
    .getByRole('list', { name: 'Processes' })
    .getByRole('listitem')
    .filter({ hasText: name })
}

/** The status line under the selected process's command. */
export function processStatus(page: Page): Locator {
  return page.locator('.process-header').getByRole('status')
}
