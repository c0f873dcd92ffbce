import { constants as fsConstants, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { splitCommandLine } from '../../shared/command-line'
import { CorralError, type ExitInfo, type ProcessSpec } from '../../shared/contract'

/** Environment Corral adds for every child unless the spec overrides it. */
export const DEFAULT_CHILD_ENV: Readonly<Record<string, string>> = { PYTHONUNBUFFERED: '1' }

/** Environment that asks programs for colour on a pipe; added unless the spec turns colour off. */
export const COLOR_CHILD_ENV: Readonly<Record<string, string>> = {
  FORCE_COLOR: '1',
  CLICOLOR_FORCE: '1',
}

/** Environment added for programs that run in a terminal (xterm.js renders 24-bit colour). */
export const TERMINAL_CHILD_ENV: Readonly<Record<string, string>> = { COLORTERM: 'truecolor' }

/** Everything `child_process.spawn` needs, resolved from a {@link ProcessSpec}. */
export interface LaunchPlan {
  file: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /** The program as the user named it, for messages. */
  program: string
}

/** The shell that runs "Run in shell" commands on this platform. */
export function userShell(): string {
  if (process.platform === 'win32') return process.env.ComSpec || 'cmd.exe'
  return process.env.SHELL || '/bin/sh'
}

/** The program a spec names, for default display names. */
export function programName(spec: ProcessSpec): string {
  if (spec.shell) return spec.command.trim().split(/\s+/)[0] || 'shell'
  const split = splitCommandLine(spec.command)
  const first = split.ok ? split.argv[0] : undefined
  return first ? path.basename(first) : 'process'
}

/**
 * Validate the command line of a spec. An empty or unparseable command line is the caller's
 * mistake and is thrown; it never creates a process.
 */
export function checkCommandLine(spec: ProcessSpec): void {
  if (spec.command.trim() === '') throw new CorralError('EMPTY_COMMAND', 'Enter a command to run.')
  if (spec.shell) return
  const split = splitCommandLine(spec.command)
  if (!split.ok) throw new CorralError('BAD_COMMAND_LINE', split.error)
  if (split.argv.length === 0) throw new CorralError('EMPTY_COMMAND', 'Enter a command to run.')
}

/**
 * Build the child's environment: the host's, Corral's defaults, then the spec's changes.
 *
 * SHLVL is at least 1, as for a command typed into a terminal's shell. A desktop app is often
 * started with none, and `bash -c` (Run in shell, with bash as the user's shell) whose input
 * is a socket, as Corral's children's input is, and whose SHLVL is under 2 takes itself for a
 * command run over ssh and reads ~/.bashrc first: output of the user's own, and a second or
 * more of start-up per command where the bashrc sets up pyenv, nvm or conda.
 */
export function childEnv(
  spec: ProcessSpec,
  base: NodeJS.ProcessEnv = hostEnv(),
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...DEFAULT_CHILD_ENV }
  if (spec.color !== false) Object.assign(env, COLOR_CHILD_ENV)
  if (spec.terminal) Object.assign(env, TERMINAL_CHILD_ENV)
  if (!(Number(env.SHLVL) >= 1)) env.SHLVL = '1'
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (value === null) delete env[key]
    else env[key] = value
  }
  return env
}

/** {@link hostEnv}'s copy, for the rest of this turn of the event loop. */
let hostEnvCopy: NodeJS.ProcessEnv | null = null

/**
 * Corral's own environment as a plain object. Every read of `process.env` asks the C library,
 * so a copy of it costs about 0.08 ms; starts in the same turn of the event loop (200 at once
 * come in a few) share one, and a change to `process.env` is seen from the next turn.
 */
function hostEnv(): NodeJS.ProcessEnv {
  if (!hostEnvCopy) {
    hostEnvCopy = { ...process.env }
    setImmediate(() => (hostEnvCopy = null))
  }
  return hostEnvCopy
}

/**
 * Resolve a spec into a launch plan, or into the failure the user should see. Checks the
 * working directory first so a missing directory is never reported as a missing program
 * (spawn says ENOENT for both).
 */
export async function planLaunch(spec: ProcessSpec): Promise<LaunchPlan | ExitInfo> {
  checkCommandLine(spec)
  const cwd = spec.cwd && spec.cwd.trim() !== '' ? expandHome(spec.cwd.trim()) : os.homedir()
  try {
    const st = await fs.stat(cwd)
    if (!st.isDirectory()) {
      return failed('ENOTDIR_CWD', `working directory is not a directory: ${cwd}`)
    }
  } catch {
    return failed('ENOTDIR_CWD', `working directory does not exist: ${cwd}`)
  }
  const env = childEnv(spec)
  if (spec.shell) {
    const shell = userShell()
    const args =
      process.platform === 'win32' ? ['/d', '/s', '/c', spec.command] : ['-c', spec.command]
    return { file: shell, args, cwd, env, program: shell }
  }
  const split = splitCommandLine(spec.command)
  // checkCommandLine already rejected the failing cases.
  const argv = split.ok ? split.argv : []
  const program = argv[0]
  if (program.includes('/') || (process.platform === 'win32' && program.includes('\\'))) {
    const full = path.resolve(cwd, program)
    const problem = await checkExecutable(full)
    if (problem) return problem
  }
  return { file: program, args: argv.slice(1), cwd, env, program }
}

/** Why the file at `full` cannot be executed, or null if it can. */
async function checkExecutable(full: string): Promise<ExitInfo | null> {
  let st
  try {
    st = await fs.stat(full)
  } catch {
    return failed('ENOENT', `program not found: ${full}`)
  }
  if (st.isDirectory()) return failed('EACCES', `not executable: ${full} is a directory`)
  if (process.platform === 'win32') return null
  try {
    await fs.access(full, fsConstants.X_OK)
  } catch {
    return failed('EACCES', `not executable: ${full} (permission denied; try chmod +x)`)
  }
  return null
}

/**
 * For launchers that cannot report a missing program themselves (a pseudo-terminal's child
 * just prints `execvp failed` and exits 1): the failure the user should see when the plan's
 * program cannot be found on PATH, or null if it can.
 */
export async function checkOnPath(plan: LaunchPlan): Promise<ExitInfo | null> {
  const program = plan.file
  if (process.platform === 'win32' || program.includes('/')) return null
  const dirs = (plan.env.PATH ?? '').split(path.delimiter)
  for (const dir of dirs) {
    // An empty PATH entry means the current (working) directory, as for execvp.
    const full = path.resolve(plan.cwd, dir === '' ? '.' : dir, program)
    try {
      const st = await fs.stat(full)
      if (st.isFile()) {
        await fs.access(full, fsConstants.X_OK)
        return null
      }
    } catch {
      // Not here (or not executable): keep looking, as execvp does.
    }
  }
  return failed('ENOENT', `program not found: ${plan.program} (not on PATH)`)
}

/** Translate a spawn error into what the user should see. */
export function spawnFailure(err: NodeJS.ErrnoException, plan: LaunchPlan): ExitInfo {
  switch (err.code) {
    case 'ENOENT':
      return failed('ENOENT', `program not found: ${plan.program} (not on PATH)`)
    case 'EACCES':
    case 'EPERM':
      return failed('EACCES', `not executable: ${plan.program} (permission denied)`)
    default:
      return failed('SPAWN_FAILED', `could not start ${plan.program}: ${err.message}`)
  }
}

function failed(code: Extract<ExitInfo, { kind: 'failed' }>['code'], reason: string): ExitInfo {
  return { kind: 'failed', code, reason }
}

function expandHome(p: string): string {
  if (p === '~') return os.homedir()
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2))
  return p
}
