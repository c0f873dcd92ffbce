/**
 * Messages between Corral and its spawner (see `main/spawner.ts`) over a Node IPC channel.
 * Corral asks for a launch; the spawner answers with the pid and the child's stdio sockets
 * (one per message, each carrying the socket as the message's handle: all three, or only
 * stdin when the output is spooled to files), or with the error that stopped it; later it
 * reports the exit.
 */

/** Corral -> spawner: start a program. */
export interface LaunchRequest {
  t: 'launch'
  id: number
  file: string
  args: string[]
  cwd: string
  env: Record<string, string>
  /** Files to append the child's stdout and stderr to (spooled output), instead of pipes. */
  spool?: { stdout: string; stderr: string }
}

/** Why a launch failed, as the fields of Node's spawn error that Corral looks at. */
export interface LaunchError {
  code?: string
  message: string
}

/** Spawner -> Corral. */
export type SpawnerMessage =
  | { t: 'ready' }
  /** The child runs; the handle of this message is its stdio socket `fd`. */
  | { t: 'stdio'; id: number; pid: number; fd: 0 | 1 | 2 }
  | { t: 'failed'; id: number; error: LaunchError }
  | { t: 'exit'; id: number; code: number | null; signal: string | null }

/** A launch request as received, or null when it is not one. */
export function parseLaunchRequest(msg: unknown): LaunchRequest | null {
  if (typeof msg !== 'object' || msg === null) return null
  const m = msg as Record<string, unknown>
  if (m.t !== 'launch' || !Number.isSafeInteger(m.id)) return null
  if (typeof m.file !== 'string' || typeof m.cwd !== 'string') return null
  if (!Array.isArray(m.args) || !m.args.every((a) => typeof a === 'string')) return null
  if (typeof m.env !== 'object' || m.env === null) return null
  if (!Object.values(m.env).every((v) => typeof v === 'string')) return null
  if (m.spool !== undefined) {
    const spool = m.spool as Record<string, unknown> | null
    if (typeof spool?.stdout !== 'string' || typeof spool.stderr !== 'string') return null
  }
  return m as unknown as LaunchRequest
}
