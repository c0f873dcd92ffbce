import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from './fixtures'
import { output, processItem, runCommand } from './ui'

test('program not found, missing directory and not executable each get a specific message', async ({
  app,
}) => {
  const { page } = app
  const dir = mkdtempSync(path.join(os.tmpdir(), 'corral-e2e-'))
  const script = path.join(dir, 'tool.sh')
  writeFileSync(script, '#!/bin/sh\necho hi\n')
  chmodSync(script, 0o644)

  await runCommand(page, { command: 'no-such-program-corral', name: 'missing' })
  await expect(
    page.getByText('failed: program not found: no-such-program-corral (not on PATH)').first(),
  ).toBeVisible()
  await runCommand(page, { command: 'ls', cwd: '/no/such/place', name: 'nodir' })
  await expect(
    page.getByText('failed: working directory does not exist: /no/such/place').first(),
  ).toBeVisible()
  await runCommand(page, { command: script, name: 'noexec' })
  await expect(
    page.getByText(`failed: not executable: ${script} (permission denied; try chmod +x)`).first(),
  ).toBeVisible()
  await expect(processItem(page, 'missing')).toContainText('fatal')
})

test('an empty command and an unterminated quote are refused in the form', async ({ app }) => {
  const { page } = app
  await page.getByRole('textbox', { name: 'Command' }).fill('   ')
  await page.getByRole('button', { name: 'Run', exact: true }).click()
  await expect(page.getByRole('alert')).toContainText('Enter a command to run.')
  await page.getByRole('textbox', { name: 'Command' }).fill(`echo 'oops`)
  await page.getByRole('button', { name: 'Run', exact: true }).click()
  await expect(page.getByRole('alert')).toContainText('unterminated single quote')
  await expect(page.getByRole('list', { name: 'Processes' }).getByRole('listitem')).toHaveCount(0)
})

test('a process that closed its input: the input box says so and the output is kept', async ({
  app,
}) => {
  const { page } = app
  await runCommand(page, {
    command: 'exec 0<&-; echo input-closed; sleep 300',
    shell: true,
    name: 'deaf',
  })
  await expect(output(page)).toContainText('input-closed')
  // Corral notices the closed input without a failed write (the child's stdin is a socket it
  // reads for end of file), so nobody types into the void.
  const stdin = page.getByRole('textbox', { name: 'Standard input' })
  await expect(stdin).toBeDisabled()
  await expect(stdin).toHaveAttribute('placeholder', 'Standard input is closed')
  await expect(output(page)).toContainText('input-closed')
  await page.getByRole('button', { name: 'Kill' }).click()
})
