import { expect, type Locator, type Page } from '@playwright/test'
import type { ProcessDiagnostics } from '../src/renderer/src/lib/diagnostics'
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

/** What the page's read-only diagnostics (`corralDiagnostics()`) say about a process. */
export type { ProcessDiagnostics }

/** The diagnostics of the process named `name`; null when the page does not know it. */
export function processDiagnostics(page: Page, name: string): Promise<ProcessDiagnostics | null> {
  return page.evaluate((n) => {
    type Diag = { processes: ProcessDiagnostics[] }
    const diag = (window as unknown as { corralDiagnostics?: () => Diag }).corralDiagnostics
    return diag?.().processes.find((p) => p.name === n) ?? null
  }, name)
}

/** The first gap marker of a process, and the rows of its view. */
async function firstGap(
  page: Page,
  name: string,
): Promise<{ row: number; rows: number; afterSeq: number; beforeSeq: number } | null> {
  const p = await processDiagnostics(page, name)
  const gap = p?.firstGaps[0]
  return p && gap
    ? { row: gap.row, rows: p.rows, afterSeq: gap.afterSeq, beforeSeq: gap.beforeSeq }
    : null
}

/**
 * Read back from disk everything the host skipped for this page ("… not shown — Load"): a
 * page that falls behind a flood gets the newest output and gap markers for the rest, which
 * may lie anywhere in the log. Scrolls each marker into view and loads it.
 */
export async function loadSkippedOutput(page: Page, name: string): Promise<void> {
  const log = output(page)
  for (let round = 0; round < 100; round++) {
    const gap = await firstGap(page, name)
    if (!gap) return
    // Rows are 18 px; past the browser's height limit the scrollbar is scaled, proportionally.
    await log.evaluate((el, { row, rows }) => {
      const maxP = Math.max(1, rows - el.clientHeight / 18)
      el.scrollTop = (Math.max(0, row - 3) / maxP) * (el.scrollHeight - el.clientHeight)
    }, gap)
    await log.getByRole('button', { name: 'Load', exact: true }).first().click()
    await expect
      .poll(async () => {
        const next = await firstGap(page, name)
        // A load limited in size leaves a smaller marker in the same row: it ends earlier.
        return (
          next === null ||
          next.afterSeq !== gap.afterSeq ||
          next.beforeSeq !== gap.beforeSeq ||
          next.row !== gap.row
        )
      })
      .toBe(true)
  }
  throw new Error(`${name}: gap markers left after 100 loads`)
}
