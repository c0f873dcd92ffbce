import { writeFile } from 'node:fs/promises'

/**
 * How much CPU Corral's children get, as a whole, when the CPU is contended (Linux).
 *
 * On Linux the children of pipe-mode runs share one session, the forker's (or the spawner's),
 * so under the kernel's autogroup scheduling (on by default on desktop kernels) they form one
 * scheduling group, as the jobs of one terminal do. That group runs at autogroup nice
 * {@link DEFAULT_CHILD_GROUP_NICE} rather than 0. Measured on a 2-core machine with 50
 * children writing 10 MB each, the UI open on a `cat` being typed into (B5 of `npm run
 * bench`, see docs/benchmarks.md): at nice 0 the group of Corral and its page got about a
 * fifth of the CPU, not the half its equal weight entitles it to; Corral's main thread waited
 * 0.9–1.4 s of a 1.7–2.1 s flood for a CPU (event-loop delay p99 7–54 ms, stalls up to 1 s;
 * a typed line's echo took up to 0.9 s at p90). At nice 5 it waited 0.4–0.8 s (p99 5–10 ms,
 * stalls up to 0.1 s, typed lines shown within 0.16 s), and in a full B5 run p99 3.8 ms. The
 * floods took about a quarter longer: Corral and its page got the CPU they asked for. A plain
 * Node loop busy 30% of the time saw the same without Corral: stalls of 0.13–0.8 s beside 50
 * such writers in one session at nice 0; at most 14 ms with that session at nice 10 to 19, or
 * with each writer in a session of its own; none at all as a real-time task.
 *
 * The cost: against another application that is busy too, Corral's children get about a
 * quarter of the CPU the two compete for (an autogroup at nice 5 weighs 335 against 1024),
 * where each would get half at nice 0. Nothing changes while the CPU has room. Terminal-mode
 * runs have sessions of their own (a terminal needs one) and are not affected.
 * `CORRAL_CHILD_NICE` sets the group's nice (0 to 19; 0 gives the children an application's
 * weight). Only lowering is possible without privileges, which is all this does.
 */
export const DEFAULT_CHILD_GROUP_NICE = 5

/** The autogroup nice for Corral's children from `CORRAL_CHILD_NICE` (see above). */
export function childGroupNice(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.CORRAL_CHILD_NICE
  if (given === undefined || given.trim() === '') return DEFAULT_CHILD_GROUP_NICE
  const n = Number(given)
  if (Number.isInteger(n) && n >= 0 && n <= 19) return n
  console.error(
    `corral: CORRAL_CHILD_NICE must be a whole number from 0 to 19, not "${given}"; using ${DEFAULT_CHILD_GROUP_NICE}`,
  )
  return DEFAULT_CHILD_GROUP_NICE
}

/**
 * The kernel lets an unprivileged process change an autogroup's nice at most once per 100 ms,
 * machine-wide (EAGAIN otherwise): a few tries, a little further apart than that.
 */
const AUTOGROUP_TRIES = 5
const AUTOGROUP_RETRY_MS = 110

/**
 * Give the session of process `pid` (its autogroup) the nice `nice`: Corral does this for the
 * forker, and the spawner for itself, since the children they start share their session.
 * Resolves with whether it took: false where there is no autogroup (not Linux, a kernel
 * without it, the process gone) or the kernel refused; nice 0 is left as it is. Never
 * rejects: Corral runs its children either way.
 */
export async function niceAutogroup(pid: number | 'self', nice: number): Promise<boolean> {
  if (process.platform !== 'linux' || nice <= 0) return false
  for (let attempt = 1; ; attempt++) {
    try {
      await writeFile(`/proc/${pid}/autogroup`, String(nice))
      return true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EAGAIN' && attempt < AUTOGROUP_TRIES) {
        await new Promise((r) => setTimeout(r, AUTOGROUP_RETRY_MS))
        continue
      }
      // No autogroup here, or the process has ended: nothing to say.
      if (code !== 'ENOENT' && code !== 'ESRCH')
        console.error(`corral: could not lower the CPU weight of Corral's children: ${String(err)}`)
      return false
    }
  }
}
