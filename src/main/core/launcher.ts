import { spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import type { LaunchPlan } from './launch'

/** A child started with pipes for its stdio, in its own process group on POSIX. */
export interface LaunchedChild {
  readonly pid: number
  readonly stdin: Writable
  readonly stdout: Readable
  readonly stderr: Readable
  /**
   * Call `listener` once the process has exited and its output streams have closed (output
   * can still arrive after the exit). Both null: the exit status could not be learnt.
   */
  onClose(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void
}

/** Starts children. */
export interface Launcher {
  /**
   * Whether launching blocks this event loop until the child has exec'd (then starts take
   * turns, see `TurnPacer`).
   */
  readonly blocksLoop: boolean
  /** Start `plan`; rejects with Node's spawn error (with its `code`) when it cannot start. */
  launch(plan: LaunchPlan): Promise<LaunchedChild>
}

/** Launching with `child_process.spawn` in this process. */
export const localLauncher: Launcher = {
  blocksLoop: true,
  launch(plan) {
    return new Promise((resolve, reject) => {
      const child = spawn(plan.file, plan.args, {
        cwd: plan.cwd,
        env: plan.env,
        stdio: 'pipe',
        // Own process group (and session) on POSIX, so signals reach the whole tree.
        detached: process.platform !== 'win32',
        windowsHide: true,
      })
      child.once('spawn', () =>
        resolve({
          pid: child.pid as number,
          stdin: child.stdin as Writable,
          stdout: child.stdout as Readable,
          stderr: child.stderr as Readable,
          // 'close', not 'exit': output can still arrive after the process exited.
          onClose: (listener) => child.once('close', listener),
        }),
      )
      child.on('error', (err) => {
        // Before 'spawn' an error means the program could not be started (ENOENT arrives
        // asynchronously); after it, errors come from kill() on a dead child and are moot.
        if (child.pid === undefined) reject(err)
      })
    })
  },
}
