// How Corral's tools launch Chromium: Debian's build where it is installed (CI, servers),
// Playwright's own elsewhere, with flags that keep it quiet on a closed network.
import { existsSync } from 'node:fs'

const SYSTEM_CHROMIUM = '/usr/bin/chromium'

/** The browser to launch, or undefined for Playwright's own. */
export const chromiumExecutable =
  process.env.CORRAL_CHROMIUM ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined)

/** Flags for a headless run without background network traffic. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Headless Chromium still loads its address bar's suggestion popup (a WebUI page in a
  // renderer of its own) for every new window: about a core for a second, which the
  // benchmarks measured as taken from the host while a page followed a flood.
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup',
]
