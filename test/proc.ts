/**
 * What the tests read of processes from /proc (Linux), shared by the unit tests and the
 * Playwright specs: live members of a group, a process's group, marked processes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { statFields } from '../src/main/core/process-group'

/** Fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, ...); null when gone. */
export function procStat(pid: number): string[] | null {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}

/** Pids of every process in /proc. */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
}

/** Whether `pid` is a live process (not a zombie). */
export function alive(pid: number): boolean {
  const fields = procStat(pid)
  return fields !== null && fields[0] !== 'Z'
}

/** The process group of `pid`; null when it is gone. */
export function pgidOf(pid: number): number | null {
  const fields = procStat(pid)
  return fields === null ? null : Number(fields[2])
}

/** Pids of live (non-zombie) processes whose process group is `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const fields = procStat(pid)
    return fields !== null && Number(fields[2]) === pgid && fields[0] !== 'Z'
  })
}

/** Pids of live processes whose environment has `NAME=value` (`entry`). */
export function pidsWithEnv(entry: string): number[] {
  return allPids().filter((pid) => {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
      return env.includes(entry) && alive(pid)
    } catch {
      // Gone, or not ours to read.
      return false
    }
  })
}
