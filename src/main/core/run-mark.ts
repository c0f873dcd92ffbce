import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { statFields } from './process-group'

/**
 * Processes of a run that left its process group. A run's child leads a process group, and
 * signalling the group reaches every descendant that stays in it; one that makes a session
 * or group of its own (`setsid`, a daemon's double fork) does not get the signal, outlives a
 * stop, and, if it kept the run's output open, keeps the run from ending at all. Every child
 * is started with {@link RUN_MARK_VAR} in its environment, which its descendants inherit
 * wherever they move: on Linux, a stop looks in /proc for processes carrying the run's mark
 * outside its group and signals them too. A process that clears its environment (`env -i`),
 * one that writes its title over it (Perl's `$0`, `setproctitle`), or one on a system without
 * /proc is not found, and only the group's signal reaches it (as before).
 */

/** The environment variable that marks a run's processes. */
export const RUN_MARK_VAR = 'CORRAL_RUN'

/** Unique to this host's life, so that another Corral's runs never match. */
const HOST_PART = `${process.pid}-${randomBytes(4).toString('hex')}`

/** The mark of run `run` of process `id`. */
export function runMark(id: string, run: number): string {
  return `${HOST_PART}-${id}-${run}`
}

/** A live process that carries a run's mark. */
export interface MarkedProcess {
  pid: number
  /** Its command line, as `ps` shows it (arguments joined by spaces); may be empty. */
  command: string
}

/**
 * A scan of /proc serves the calls made within this long of it, for runs that had started
 * before it began: stopping 200 processes at once (removing them, or Corral shutting down)
 * asks 200 times, and each scan reads every process's environment.
 */
const SCAN_REUSE_MS = 100

/** Marked processes by mark, with their process group. */
type Scan = Map<string, (MarkedProcess & { pgid: number })[]>

let lastScan: { at: number; result: Promise<Scan> } | null = null

/**
 * Live processes (not zombies) that carry `mark`, but for those in group `exceptGroup` when
 * given. `since` is when the run's process was started (`performance.now()`): a scan begun
 * before then would miss it. Empty where there is no /proc. Reads only processes this user
 * may read; the rest are skipped.
 */
export async function findMarked(
  mark: string,
  since: number,
  exceptGroup?: number,
): Promise<MarkedProcess[]> {
  const now = performance.now()
  if (!lastScan || lastScan.at <= since || now - lastScan.at >= SCAN_REUSE_MS) {
    lastScan = { at: now, result: scanProc() }
  }
  const found = (await lastScan.result).get(mark) ?? []
  return found
    .filter((p) => exceptGroup === undefined || p.pgid !== exceptGroup)
    .map(({ pid, command }) => ({ pid, command }))
}

async function scanProc(): Promise<Scan> {
  const scan: Scan = new Map()
  let entries: string[]
  try {
    entries = await fs.promises.readdir('/proc')
  } catch {
    // No /proc (macOS, Windows): nothing can be found, and the group's signal is all there is.
    return scan
  }
  const head = Buffer.from(`${RUN_MARK_VAR}=`)
  const needle = Buffer.from(`\0${RUN_MARK_VAR}=`)
  await Promise.all(
    entries.map(async (name) => {
      if (!/^\d+$/.test(name)) return
      const pid = Number(name)
      if (pid === process.pid) return
      let environ: Buffer
      try {
        environ = await fs.promises.readFile(`/proc/${name}/environ`)
      } catch {
        // Gone meanwhile, or another user's: not one of ours either way.
        return
      }
      // First in the environment, or after another entry's end.
      let at = environ.subarray(0, head.length).equals(head) ? 0 : -1
      if (at < 0) {
        const i = environ.indexOf(needle)
        if (i < 0) return
        at = i + 1
      }
      const from = at + head.length
      const to = environ.indexOf(0, from)
      const mark = environ.toString('utf8', from, to < 0 ? environ.length : to)
      const fields = statFields(await readOr(`/proc/${name}/stat`))
      if (fields.length < 3 || fields[0] === 'Z' || fields[0] === 'X') return
      const cmdline = await readOr(`/proc/${name}/cmdline`)
      const command = cmdline.replace(/\0+$/, '').replaceAll('\0', ' ')
      const list = scan.get(mark) ?? []
      list.push({ pid, command, pgid: Number(fields[2]) })
      scan.set(mark, list)
    }),
  )
  for (const list of scan.values()) list.sort((a, b) => a.pid - b.pid)
  return scan
}

/** Send `signal` to each of `processes`; one that is gone already is skipped. */
export function signalEach(processes: readonly MarkedProcess[], signal: NodeJS.Signals): void {
  for (const { pid } of processes) {
    try {
      process.kill(pid, signal)
    } catch {
      // ESRCH: it ended since it was found, which is the goal.
    }
  }
}

/** "pid 1730 (sleep 1005)" for each, joined; commands cut to a readable length. */
export function describeProcesses(processes: readonly MarkedProcess[]): string {
  const shown = processes.slice(0, 3).map(({ pid, command }) => {
    const cmd = command.length > 60 ? `${command.slice(0, 59)}…` : command
    return cmd ? `pid ${pid} (${cmd})` : `pid ${pid}`
  })
  const more = processes.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ')
}

async function readOr(file: string): Promise<string> {
  try {
    return await fs.promises.readFile(file, 'utf8')
  } catch {
    return ''
  }
}
