import type { Locator, Page } from '@playwright/test'
import { output } from './ui'

/** The toolbar above the selected process's output. */
export function outputTools(page: Page): Locator {
  return page.getByRole('toolbar', { name: 'Output tools' })
}

/** The search box of the output toolbar. */
export function searchBox(page: Page): Locator {
  return outputTools(page).getByRole('textbox', { name: 'Search output' })
}

/** The "3 of 17" match count. */
export function searchStatus(page: Page): Locator {
  return outputTools(page).getByRole('status')
}

/** A toggle button of the toolbar by its accessible name. */
export function toggle(page: Page, name: string): Locator {
  return outputTools(page).getByRole('button', { name, exact: true })
}

/** Text of every rendered row of the log (the view is virtualised: only rows near the viewport). */
export async function rowTexts(page: Page): Promise<string[]> {
  return output(page).locator('.row').allTextContents()
}

/** Rows of one stream. */
export function streamRows(page: Page, stream: 'stdout' | 'stderr' | 'system'): Locator {
  return output(page).locator(`[data-stream="${stream}"]`)
}

/**
 * What copying the current selection of the log puts on the clipboard, read from a synthetic
 * copy event (headless browsers have no clipboard to read back).
 */
export async function copySelection(page: Page): Promise<string> {
  return output(page).evaluate((log) => {
    const data = new DataTransfer()
    log.dispatchEvent(
      new ClipboardEvent('copy', { clipboardData: data, bubbles: true, cancelable: true }),
    )
    return data.getData('text/plain')
  })
}

/** Select the text of the log from the first row to the last rendered one. */
export async function selectAllRows(page: Page): Promise<void> {
  await output(page).evaluate((log) => {
    const rows = log.querySelectorAll('.row')
    const range = document.createRange()
    range.setStartBefore(rows[0])
    range.setEndAfter(rows[rows.length - 1])
    const sel = window.getSelection()!
    sel.removeAllRanges()
    sel.addRange(range)
  })
}
