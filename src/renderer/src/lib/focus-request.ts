import { appStore, clearStdinFocusRequest } from '../store/app-store'

/**
 * Carry out the request to focus a just-started process's input (see `selectStarted`) with
 * `focus`, then drop the request. The focus moves only if it is still where it was when the
 * start was asked, or nowhere: the start is answered after a round trip, and a focus that
 * jumped after the user had moved on (to type the next command, say) would take their
 * keystrokes into the process.
 */
export function takeRequestedFocus(focus: () => void): void {
  const from = appStore.getState().stdinFocusRequest?.from
  const now = document.activeElement
  if (now === from || now === null || now === document.body) focus()
  clearStdinFocusRequest(appStore)
}
