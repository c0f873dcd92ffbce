import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { formatWatchdogLine, type WatchdogMessage } from './watchdog-protocol'

/**
 * Corral's side of the watchdog (see `main/watchdog.ts`): spawns it in its own session with
 * a pipe on its stdin, and keeps it told which process groups are alive. The pipe is the
 * whole mechanism: when Corral dies, the kernel closes it and the watchdog acts.
 */
export class WatchdogClient {
  private constructor(private readonly child: ChildProcess) {}

  /**
   * Start the watchdog program at `script`; null (with the reason on stderr) when it cannot
   * run, which leaves Corral working without the crash guarantee.
   */
  static start(script: string): WatchdogClient | null {
    if (process.platform === 'win32' || !existsSync(script)) {
      if (process.platform !== 'win32') console.error(`corral: watchdog not found at ${script}`)
      return null
    }
    const child = spawn(process.execPath, [script], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      // In Electron, execPath is Electron itself; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    })
    child.on('error', (err) => console.error('corral: watchdog failed to start:', err.message))
    child.stdin?.on('error', () => {
      // The watchdog died (it only exits after Corral is gone, or if killed): nothing to tell.
    })
    // Neither the watchdog nor its pipe may keep Corral's event loop alive.
    child.unref()
    ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    return new WatchdogClient(child)
  }

  /** The watchdog's pid. */
  get pid(): number | undefined {
    return this.child.pid
  }

  /** Tell the watchdog about a group. */
  send(msg: WatchdogMessage): void {
    const stdin = this.child.stdin
    if (stdin && !stdin.destroyed) stdin.write(formatWatchdogLine(msg))
  }
}
