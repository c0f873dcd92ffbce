import fs from 'node:fs'
import type { OrphanGroup } from '../../shared/contract'
import { AtomicFileWriter } from './atomic-file'
import { backgroundIo } from './io-lane'
import { groupAlive, signalGroup, statFields } from './process-group'
import type { WatchdogClient } from './watchdog-client'

/**
 * How long a write of the groups' file waits after the one before it when changes keep
 * coming: each write is a new file and a rename, a few ms of the thread pool on a slow disk,
 * and with 200 processes started at once one write per start took a thread for the whole
 * burst. The watchdog hears of every group at once all the same.
 */
const GROUPS_WRITE_SPACING_MS = 100

/** A process group Corral started, as recorded on disk. */
export interface GroupRecord {
  pgid: number
  /** The leader's start time from /proc (Linux), to tell it from a later process with its pid. */
  leaderStart: string | null
  name: string
  command: string
  startedAt: number
}

/**
 * Every live process group Corral started, mirrored to the watchdog (which ends them if
 * Corral dies) and to a file (so that the next life of Corral can find any that survived
 * both, and report them instead of leaving them silently).
 */
export class GroupRegistry {
  private readonly groups = new Map<number, GroupRecord>()

  private readonly writer: AtomicFileWriter | null

  constructor(
    private readonly file: string | null,
    private readonly watchdog: WatchdogClient | null,
  ) {
    this.writer = file
      ? new AtomicFileWriter(
          file,
          (err) =>
            // Losing this file only loses the next life's orphan report; the watchdog still works.
            console.error('corral: could not record process groups:', err.message),
          { spacingMs: GROUPS_WRITE_SPACING_MS },
        )
      : null
  }

  /**
   * Record a group that just started. The watchdog hears of it at once, and the file is
   * written at once (on the thread pool; starts at the same moment share a write, and in a
   * burst of starts a write waits 100 ms after the one before, see
   * {@link GROUPS_WRITE_SPACING_MS}): waiting for the leader's start time, behind the run
   * indexes and logs in the background lane, a Corral killed with its watchdog within that
   * wait left no record of the group at all.
   * The leader's start time follows in a later write, read off the event loop and after
   * what starts wait for (reading /proc/<pid>/stat of a child that is still exec'ing waits
   * for it: 0.2 ms apiece on the loop, 40 ms for 200 starts at once); until then the record
   * names the group by its id alone.
   */
  add(record: Omit<GroupRecord, 'leaderStart'>): void {
    const full: GroupRecord = { ...record, leaderStart: null }
    this.groups.set(record.pgid, full)
    this.watchdog?.send({ op: 'add', pgid: record.pgid })
    if (!this.writer) return
    this.persist()
    void backgroundIo
      .run(() => readLeaderStart(record.pgid))
      .then((start) => {
        // Gone meanwhile: nothing to record.
        if (this.groups.get(record.pgid) !== full) return
        full.leaderStart = start
        this.persist()
      })
  }

  /** Forget a group that has ended. */
  remove(pgid: number): void {
    if (!this.groups.delete(pgid)) return
    this.watchdog?.send({ op: 'remove', pgid })
    this.persist()
  }

  /**
   * Groups recorded by an earlier life of Corral that are still alive. Call once at startup,
   * before this life records anything.
   */
  previousLife(): OrphanGroup[] {
    if (!this.file) return []
    let records: GroupRecord[]
    try {
      records = JSON.parse(fs.readFileSync(this.file, 'utf8')) as GroupRecord[]
      if (!Array.isArray(records)) return []
    } catch {
      return []
    }
    return records.flatMap((r) => {
      const orphan = describeIfAlive(r)
      return orphan ? [orphan] : []
    })
  }

  /** Re-check orphans, dropping those that ended. */
  static stillAlive(orphans: OrphanGroup[]): OrphanGroup[] {
    return orphans.flatMap((o) => {
      const pids = groupMembers(o.pgid)
      return pids.length ? [{ ...o, pids }] : []
    })
  }

  /** Signal every orphan group. */
  static signalAll(orphans: OrphanGroup[], signal: NodeJS.Signals): void {
    for (const o of orphans) signalGroup(o.pgid, signal)
  }

  /**
   * Record the groups on disk, off the event loop; changes made while a write is in flight
   * (50 processes started at once) go out together in the next one.
   */
  private persist(): void {
    this.writer?.write(() => JSON.stringify([...this.groups.values()]))
  }

  /** Resolves once what changed is on disk. */
  flush(): Promise<void> {
    return this.writer?.settled() ?? Promise.resolve()
  }
}

function describeIfAlive(r: GroupRecord): OrphanGroup | null {
  if (typeof r?.pgid !== 'number' || r.pgid <= 1) return null
  const pids = groupMembers(r.pgid)
  if (pids.length === 0) return null
  // A live process with the leader's pid but another start time is a stranger that reused
  // the pid; members of the group without the leader cannot be strangers (the kernel does not
  // hand out a pid equal to a live group id).
  if (
    pids.includes(r.pgid) &&
    r.leaderStart !== null &&
    leaderStartTime(r.pgid) !== r.leaderStart
  ) {
    return null
  }
  return { pgid: r.pgid, name: r.name, command: r.command, startedAt: r.startedAt, pids }
}

/** The start time of a process from /proc, or null where /proc is not available. */
export function leaderStartTime(pid: number): string | null {
  try {
    return startTimeOf(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}

/** {@link leaderStartTime}, read on the thread pool. */
async function readLeaderStart(pid: number): Promise<string | null> {
  try {
    return startTimeOf(await fs.promises.readFile(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}

/** The start time field of a /proc/<pid>/stat line. */
function startTimeOf(stat: string): string | null {
  return statFields(stat)[19] ?? null
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  if (process.platform !== 'linux') return groupAlive(pgid) ? [pgid] : []
  const pids: number[] = []
  let entries: string[]
  try {
    entries = fs.readdirSync('/proc')
  } catch {
    return groupAlive(pgid) ? [pgid] : []
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue
    try {
      const rest = statFields(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))
      if (Number(rest[2]) === pgid && rest[0] !== 'Z') pids.push(Number(entry))
    } catch {
      // The process ended while we looked: it is not a member any more.
    }
  }
  return pids
}
