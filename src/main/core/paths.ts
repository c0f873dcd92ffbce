import os from 'node:os'
import path from 'node:path'

/**
 * The OS's per-user application data folder for Corral, the same one Electron's
 * `app.getPath('userData')` names, so the desktop app and the headless host share saved
 * processes by default: `~/.config/Corral` (Linux, or `$XDG_CONFIG_HOME/Corral`),
 * `~/Library/Application Support/Corral` (macOS), `%APPDATA%\Corral` (Windows).
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = os.homedir()
  if (process.platform === 'win32')
    return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Corral')
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'Corral')
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'Corral')
}
