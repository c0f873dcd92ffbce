import { spawn } from 'node:child_process'

/**
 * Signals to whole process groups. Each child is spawned as the leader of its own group
 * (see spawner.ts), so its group id equals its pid and `kill(-pgid)` reaches every
 * descendant that did not move itself to another group.
 *
 * Windows has no process groups: there the child alone is signalled, and SIGKILL becomes
 * `taskkill /T /F`, which ends the whole tree. (A Job Object would be the robust equivalent;
 * it needs a native module.)
 */

/** Send `signal` to the group led by `pgid`. A group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (process.platform === 'win32') {
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      spawn('taskkill', ['/pid', String(pgid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' })
    } else {
      tryKill(pgid, signal)
    }
    return
  }
  tryKill(-pgid, signal)
}

/** Whether any process in the group led by `pgid` still exists (zombies count until reaped). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(process.platform === 'win32' ? pgid : -pgid, 0)
    return true
  } catch (err) {
    // EPERM means it exists but belongs to someone else: still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The fields of a `/proc/<pid>/stat` line after the command name: `[state, ppid, pgrp,
 * session, tty_nr, tpgid, ...]`. The name is in parentheses and may hold spaces and
 * parentheses itself, so the fields start after the last `)`.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** Whether a process with this pid exists (a zombie counts until it is reaped). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function tryKill(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal)
  } catch (err) {
    // ESRCH: the group already ended between the check and the signal, which is the goal.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}
