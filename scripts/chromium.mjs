// How Corral's tools launch Chromium: Debian's build where it is installed (CI, servers),
// Playwright's own elsewhere, with flags that keep it quiet on a closed network.
import { existsSync, statfsSync } from 'node:fs'

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

/**
 * Whether Chromium can keep its shared memory (tiles, IPC buffers) in /dev/shm, as a desktop
 * browser and Electron do. Playwright passes `--disable-dev-shm-usage` for containers whose
 * /dev/shm holds 64 MB, and Chromium then keeps it in files under /tmp instead. On a disk
 * mounted with `discard`, unmapping such a file frees its blocks and waits for the disk, which
 * during a flood is busy writing back gigabytes of output: in B3 of `npm run bench` that held a
 * Chromium main thread in `munmap` for up to 1.4 s. So the flag is left out where /dev/shm
 * has room (1 GiB free).
 */
export function devShmUsable() {
  try {
    const st = statfsSync('/dev/shm')
    return st.bavail * st.bsize >= 1024 ** 3
  } catch {
    return false
  }
}
