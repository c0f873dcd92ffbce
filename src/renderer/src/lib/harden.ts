/**
 * Closes a way out of the page that a plain browser leaves open (in Electron the main
 * process already refuses new windows). Corral never opens windows from script: links the
 * user clicks are anchors with `rel="noopener"`. So `window.open` does nothing and returns
 * null, and nothing a script could open can reach back into this page.
 */
export function hardenWindow(win: Window = window): void {
  win.open = (): null => null
}
