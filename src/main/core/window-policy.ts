/**
 * The desktop window's security decisions as plain functions, so they are unit-tested
 * without Electron; `main/index.ts` only wires them to Electron's handlers.
 */

/**
 * The URL to hand to the system browser for a window-open request, or null to do nothing.
 * Only http and https, only without embedded credentials, and only when the request comes
 * from a link the user clicked (a new foreground or background tab), never from a script.
 */
export function externalUrlToOpen(raw: string, disposition: string): string | null {
  if (disposition !== 'foreground-tab' && disposition !== 'background-tab') return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.username || url.password) return null
  return url.href
}

/** Whether a navigation of the app's window may proceed: never; the app is a single page. */
export function allowNavigation(_url: string): boolean {
  return false
}

/** Whether a permission request (camera, notifications, …) is granted: never. */
export function allowPermission(_permission: string): boolean {
  return false
}

/** Whether a frame's URL belongs to the app itself (its files, or the dev server in dev). */
export function isAppUrl(url: string, appOrigin: string): boolean {
  if (appOrigin.startsWith('file:')) return url === appOrigin || url.startsWith(`${appOrigin}#`)
  try {
    return new URL(url).origin === appOrigin
  } catch {
    return false
  }
}

/** The web preferences of Corral's window (Electron's `WebPreferences` subset it sets). */
export interface HardenedWebPreferences {
  preload: string
  contextIsolation: true
  sandbox: true
  nodeIntegration: false
  nodeIntegrationInSubFrames: false
  webSecurity: true
  allowRunningInsecureContent: false
  webviewTag: false
  disableBlinkFeatures: string
}

/**
 * The window's web preferences, every security-relevant one set explicitly rather than left
 * to defaults that have changed between Electron versions.
 */
export function hardenedWebPreferences(preload: string): HardenedWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    // Middle-click would open links in new windows outside the window-open handler.
    disableBlinkFeatures: 'Auxclick',
  }
}
