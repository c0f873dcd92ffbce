// postinstall: fetch the Electron binary with Electron's own installer so `npm start` works.
// Where it cannot be downloaded (offline, blocked network), warn once and let the install
// succeed: the headless host, the build and the tests do not need it.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)
let installer
try {
  installer = path.join(path.dirname(require.resolve('electron/package.json')), 'install.js')
} catch {
  process.exit(0) // electron is not installed (production install): nothing to do
}
if (!existsSync(installer)) process.exit(0)

const result = spawnSync(process.execPath, [installer], {
  stdio: ['ignore', 'ignore', 'pipe'],
  timeout: 5 * 60 * 1000,
  encoding: 'utf8',
})
if (result.status !== 0) {
  const lines = (result.stderr || result.error?.message || 'unknown error').trim().split('\n')
  const why = lines.find((l) => l.trim() && !l.trim().startsWith('at ')) ?? lines[0]
  console.warn(
    `\n[corral] Warning: the Electron binary could not be downloaded (${why}).\n` +
      '[corral] The desktop app (npm start) needs it; the browser UI (npm run build && npm run serve)\n' +
      '[corral] and the tests do not. Retry later with: node node_modules/electron/install.js\n',
  )
}
