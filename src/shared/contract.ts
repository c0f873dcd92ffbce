/**
 * The one contract between Corral's main side (Electron main process or headless host) and
 * its renderer. Both transports (Electron IPC and the headless WebSocket) carry exactly these
 * commands and events; nothing else crosses the boundary.
 *
 * This file has no runtime dependencies so it can be imported from every layer.
 */

/** Opaque identifier of a managed process, stable for the life of the host. */
export type ProcessId = string

/**
 * Lifecycle state of a managed process, modelled on supervisord's state machine:
 * `stopped -> starting -> running -> (exited | backoff -> starting | fatal)` and
 * `running -> stopping -> stopped`.
 */
export type ProcessState =
  'stopped' | 'starting' | 'running' | 'backoff' | 'stopping' | 'exited' | 'fatal'

/** All process states, in lifecycle order. */
export const PROCESS_STATES = [
  'stopped',
  'starting',
  'running',
  'backoff',
  'stopping',
  'exited',
  'fatal',
] as const satisfies readonly ProcessState[]

/**
 * Which stream a chunk of output came from; `system` marks lines Corral itself adds, `stdin`
 * what someone typed into the process's standard input (outside a terminal, where nothing
 * else would show it), as it was sent.
 */
export type OutputStream = 'stdout' | 'stderr' | 'system' | 'stdin'

/** The streams Corral writes into the output itself, rather than the program. */
export type OwnStream = 'system' | 'stdin'

/** Whether `stream` is one Corral writes itself (see {@link OwnStream}). */
export const isOwnStream = (stream: OutputStream): stream is OwnStream =>
  stream === 'system' || stream === 'stdin'

/** How text is written to a process's stdin. */
export interface WriteOptions {
  /**
   * Show the text in the output (stream `stdin`) and keep it in the run's log; true unless
   * given. False for a secret, such as a password: it then goes to the program only. In a
   * terminal the terminal echoes what the program lets it, whatever this says.
   */
  echo?: boolean
}

/** Signals a user may send to a process group from the UI or the API. */
export type UserSignal =
  'SIGINT' | 'SIGTERM' | 'SIGKILL' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2'

/** Every signal accepted by {@link CorralApi.signal}. */
export const USER_SIGNALS = [
  'SIGINT',
  'SIGTERM',
  'SIGKILL',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
] as const satisfies readonly UserSignal[]

/** When a process is restarted automatically after its run ends. */
export type RestartPolicyName = 'never' | 'on-failure' | 'always'

/** Every restart policy. */
export const RESTART_POLICIES = [
  'never',
  'on-failure',
  'always',
] as const satisfies readonly RestartPolicyName[]

/** Signals a process may be stopped with (SIGKILL follows after the grace period). */
export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2'

/** Every stop signal. */
export const STOP_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
] as const satisfies readonly StopSignal[]

/** What the user asks to run: an ad-hoc command or a saved definition. */
export interface ProcessSpec {
  /**
   * The command line. Without `shell` it is split into program and arguments with
   * POSIX-shell-like quoting (no expansion); with `shell` the user's shell runs it verbatim.
   */
  command: string
  /** Run the command line through the user's shell (`$SHELL -c`, `cmd.exe /d /s /c` on Windows). */
  shell?: boolean
  /** Working directory; defaults to the host's home directory. */
  cwd?: string
  /** Environment changes: a string sets the variable, `null` unsets it. */
  env?: Record<string, string | null>
  /** Display name; defaults to the program's base name. */
  name?: string
  /** Restart policy; `never` by default. */
  restart?: RestartPolicyName
  /** Exit codes that count as success for `on-failure`; `[0]` by default. */
  successCodes?: number[]
  /** Uptime after which a start counts as successful; 1000 ms by default. */
  minUptimeMs?: number
  /** Failed starts in a row before `fatal`; 5 by default. */
  maxRetries?: number
  /** Signal sent to the group on Stop; SIGTERM by default. */
  stopSignal?: StopSignal
  /** Grace period between the stop signal and SIGKILL; 5000 ms by default. */
  stopGraceMs?: number
  /** Start when Corral starts (saved definitions only). */
  autostart?: boolean
  /**
   * Ask programs for colour output (`FORCE_COLOR=1`, `CLICOLOR_FORCE=1`) even though their
   * output is a pipe; on by default, since Corral renders ANSI colours.
   */
  color?: boolean
  /**
   * Run in a pseudo-terminal instead of pipes: the program sees a terminal (isatty, window
   * size, job control), its output is one stream and the UI shows a terminal emulator.
   */
  terminal?: boolean
}

/** Smallest and largest terminal width or height, in cells. */
export const TERMINAL_SIZE_LIMITS = { min: 1, max: 1000 } as const

/** Size of a pseudo-terminal, in character cells. */
export interface TerminalSize {
  cols: number
  rows: number
}

/** Why a run started. */
export type StartReason = 'user' | 'autostart' | 'restart'

/** Why a run ended. */
export type EndReason =
  'exit' | 'user-stop' | 'killed-after-grace' | 'failed-to-start' | 'host-exit'

/** One run of a process: every start is a run, with its own log on disk. */
export interface RunInfo {
  /** Unique within its process; sortable by start time. */
  runId: string
  processId: ProcessId
  /** 1 for the process's first run. */
  number: number
  startedAt: number
  endedAt: number | null
  exit: ExitInfo | null
  startReason: StartReason
  endReason: EndReason | null
  /** Bytes of stdout and stderr written to the run's log. */
  bytes: number
}

/** Which part of a run's log to read. */
export interface RunOutputRange {
  /** Only chunks with a greater sequence number. */
  afterSeq?: number
  /** Only chunks with a smaller sequence number. */
  beforeSeq?: number
  /** At most this many bytes of output; the newest are kept. Default 8 MiB. */
  limitBytes?: number
}

/** The output of a past (or the current) run, read back from its log on disk. */
export interface RunOutput {
  run: RunInfo
  /** Chunks with the sequence numbers they had when live (Corral's own lines are not logged). */
  chunks: OutputChunk[]
  /** Bytes in the requested range not included (the oldest part) because of the size limit. */
  skippedBytes: number
}

/** A process group started by an earlier life of Corral that is still alive. */
export interface OrphanGroup {
  pgid: number
  name: string
  command: string
  startedAt: number
  /** Live processes in the group. */
  pids: number[]
}

/** How a run ended. A failure to start is a value, not a thrown error. */
export type ExitInfo =
  | { kind: 'code'; code: number }
  | { kind: 'signal'; signal: string; afterGrace: boolean }
  | { kind: 'failed'; code: FailureCode; reason: string }

/** Why a process could not be started. */
export type FailureCode = 'ENOENT' | 'ENOTDIR_CWD' | 'EACCES' | 'SPAWN_FAILED'

/** A snapshot of one managed process, sent on every state change. */
export interface ProcessInfo {
  id: ProcessId
  /** Display name. */
  name: string
  spec: ProcessSpec
  state: ProcessState
  /** OS process id of the current run (also its process group id on POSIX). */
  pid: number | null
  /** Number of runs started so far (1 for the first). */
  runCount: number
  /** Epoch milliseconds when the current or last run started. */
  startedAt: number | null
  /** Epoch milliseconds when the last run ended; null while it runs. */
  endedAt: number | null
  /** How the last run ended; null while it runs or before the first run. */
  exit: ExitInfo | null
  /** Whether the child's stdin still accepts input. */
  stdinOpen: boolean
  /** Set while a stop is in progress: when SIGKILL follows if the group is still alive. */
  killDeadline: number | null
  /** Whether this is a saved definition (kept across restarts of Corral). */
  saved: boolean
  /** In `backoff`: when the next start is due. */
  nextRetryAt: number | null
  /** Consecutive failed starts (runs shorter than the minimum uptime). */
  failedStarts: number
  /** The policy's retry limit, for "attempt N of M". */
  maxRetries: number
  /** Id of the current or latest run. */
  runId: string | null
  /**
   * Present when the current (or latest) run is in a pseudo-terminal, or, before the first
   * run, when the spec asks for one: the terminal's size, which the next run also starts with.
   */
  terminal?: TerminalSize
}

/** One piece of output, numbered so that order survives batching, reloads and reconnects. */
export interface OutputChunk {
  /** Per-process sequence number, strictly increasing across streams and runs. */
  seq: number
  stream: OutputStream
  /** Decoded text (UTF-8; invalid bytes become U+FFFD). */
  data: string
  /** Epoch milliseconds when the first byte of this chunk arrived. */
  time: number
}

/** A batch of output chunks for one process, in sequence order. */
export interface OutputBatch {
  id: ProcessId
  chunks: OutputChunk[]
}

/** The retained output of one process, as returned by {@link CorralApi.output}. */
export interface OutputSnapshot {
  id: ProcessId
  chunks: OutputChunk[]
  /**
   * Sequence number of the oldest chunk returned (the oldest retained one unless the call
   * limited its size). Chunks below it were dropped from the bounded buffer or left out; a
   * renderer that has not seen them shows a gap marker.
   */
  firstSeq: number
  /** Output before `firstSeq` (bytes of program output, characters of Corral's own text). */
  droppedChars: number
}

/** Facts about the host, for the UI's defaults and help texts. */
export interface HostInfo {
  platform: string
  /** The shell used when "Run in shell" is ticked. */
  shell: string
  /** Default working directory. */
  homeDir: string
  /** Grace period between the stop signal and SIGKILL. */
  stopGraceMs: number
  /** Environment variables Corral adds for every child unless the spec overrides them. */
  defaultEnv: Record<string, string>
  /** Where definitions and run logs are kept; null when nothing is kept on disk. */
  dataDir: string | null
  /** Problems found at startup (e.g. an invalid definitions file), for the user to see. */
  warnings: string[]
  /**
   * Whether processes can run in a pseudo-terminal here, and if not, why. Every host of this
   * version sends it; a UI treats its absence as "available" (and lets the start report why not).
   */
  terminal?: { available: boolean; reason?: string }
}

/** Commands: renderer -> main. Each returns a Promise; failures reject with a {@link CorralError}. */
export interface CorralApi {
  /** Facts about the host. */
  hostInfo(): Promise<HostInfo>
  /** Every managed process, oldest first. */
  list(): Promise<ProcessInfo[]>
  /** Start a new process. A program that cannot be started yields a process in a failed state. */
  start(spec: ProcessSpec): Promise<ProcessInfo>
  /** Run a process again with the same spec, stopping the current run first if it is alive. */
  restart(id: ProcessId): Promise<ProcessInfo>
  /** Write text to the process's stdin. */
  write(id: ProcessId, data: string, options?: WriteOptions): Promise<void>
  /** Close the process's stdin (end of file). */
  closeStdin(id: ProcessId): Promise<void>
  /** Send a signal to the process's whole group. */
  signal(id: ProcessId, signal: UserSignal): Promise<void>
  /** Graceful stop: SIGTERM to the group, SIGKILL after the grace period. Resolves once it ended. */
  stop(id: ProcessId): Promise<ProcessInfo>
  /** SIGKILL to the group at once. Resolves once it ended. */
  kill(id: ProcessId): Promise<ProcessInfo>
  /** Forget a process that is not running. */
  remove(id: ProcessId): Promise<void>
  /**
   * Retained output of a process, optionally only chunks after `afterSeq`, and at most about
   * `maxBytes` of it (the newest chunks, always at least one; when those are only Corral's
   * own lines, also the program's output before them within twice `maxBytes`): a view that
   * fell behind takes the tail and marks the rest as skipped, loadable from the run log.
   */
  output(id: ProcessId, afterSeq?: number, maxBytes?: number): Promise<OutputSnapshot>
  /** Save a new definition without starting it (unless it autostarts). */
  define(spec: ProcessSpec): Promise<ProcessInfo>
  /** Save an existing process (ad-hoc or saved) with a new spec; applies from its next run. */
  update(id: ProcessId, spec: ProcessSpec): Promise<ProcessInfo>
  /** Save a copy of a process's definition under a new name. */
  duplicate(id: ProcessId): Promise<ProcessInfo>
  /** In `backoff`: start now instead of waiting. */
  retryNow(id: ProcessId): Promise<ProcessInfo>
  /** Runs of a process, newest first. */
  runs(id: ProcessId): Promise<RunInfo[]>
  /**
   * A run's output read back from its log on disk, optionally only a range of sequence
   * numbers (to load output a slow view skipped) and at most `limitBytes` (newest kept).
   */
  runOutput(id: ProcessId, runId: string, range?: RunOutputRange): Promise<RunOutput>
  /** Process groups from an earlier life of Corral that are still alive. */
  orphans(): Promise<OrphanGroup[]>
  /** End those groups (stop signal, SIGKILL after the grace period); resolves with what is left. */
  endOrphans(): Promise<OrphanGroup[]>
  /**
   * Set the size of a process's terminal (the program gets SIGWINCH); kept for its next run.
   * Rejects with NOT_A_TERMINAL for a process that does not run in one.
   */
  resize(id: ProcessId, cols: number, rows: number): Promise<void>
  /**
   * Flow control of a terminal: the viewer has parsed `bytes` more bytes of its output. The
   * host pauses reading from the terminal while too many bytes are unacknowledged and resumes
   * once acknowledgements catch up. Acknowledging a process that is not a terminal does nothing.
   */
  ack(id: ProcessId, bytes: number): Promise<void>
}

/** Events: main -> renderer. */
export interface CorralEvents {
  /** A process was added or changed state. */
  status: ProcessInfo
  /** New output. */
  output: OutputBatch
  /** A process was removed. */
  removed: { id: ProcessId }
  /** The list of runs of a process changed (a run started, ended or was pruned). */
  runs: { id: ProcessId }
  /** The set of orphaned groups changed. */
  orphans: OrphanGroup[]
}

/** Names of every command, the list both transports are built from. */
export const API_METHODS = [
  'hostInfo',
  'list',
  'start',
  'restart',
  'write',
  'closeStdin',
  'signal',
  'stop',
  'kill',
  'remove',
  'output',
  'define',
  'update',
  'duplicate',
  'retryNow',
  'runs',
  'runOutput',
  'orphans',
  'endOrphans',
  'resize',
  'ack',
] as const satisfies readonly (keyof CorralApi)[]

/** Names of every event. */
export const EVENT_NAMES = [
  'status',
  'output',
  'removed',
  'runs',
  'orphans',
] as const satisfies readonly (keyof CorralEvents)[]

/** A command name. */
export type ApiMethod = (typeof API_METHODS)[number]
/** An event name. */
export type EventName = keyof CorralEvents

/** Machine-readable error codes that cross the boundary. */
export type ErrorCode =
  | 'INVALID_PAYLOAD'
  | 'UNKNOWN_METHOD'
  | 'EMPTY_COMMAND'
  | 'BAD_COMMAND_LINE'
  | 'NO_SUCH_PROCESS'
  | 'NOT_RUNNING'
  | 'STDIN_CLOSED'
  | 'STILL_RUNNING'
  | 'FORBIDDEN'
  | 'NO_SUCH_RUN'
  | 'NOT_IN_BACKOFF'
  | 'STORAGE'
  | 'NOT_A_TERMINAL'
  | 'INTERNAL'

/** The shape every error takes on the wire. */
export interface CorralErrorData {
  code: ErrorCode
  message: string
}

/** The result envelope of a command on either transport. */
export type CallResult<T = unknown> = { ok: true; value: T } | { ok: false; error: CorralErrorData }

/** What the renderer sees: every command plus typed event subscription. */
export interface CorralBridge extends CorralApi {
  /** Subscribe to an event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: CorralEvents[E]) => void): () => void
  /**
   * Flow control over Electron IPC: the page has taken in output of this size (characters of
   * the chunks' text). Once a page acknowledges, main holds a flood back while more than a
   * window is unacknowledged and then sends only the newest output (as the headless host does).
   */
  acknowledgeOutput?(size: number): void
  /**
   * Flow control over Electron IPC: the page shows only these processes now (see `WireFocus`
   * for what that changes).
   */
  focusOutput?(ids: ProcessId[]): void
}

/** Type guard for error data received over a transport. */
export function isCorralErrorData(value: unknown): value is CorralErrorData {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}

/** An error that crosses the boundary as `{ code, message }`. */
export class CorralError extends Error implements CorralErrorData {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'CorralError'
    this.code = code
  }
  /** The plain data form sent over a transport. */
  toData(): CorralErrorData {
    return { code: this.code, message: this.message }
  }
}

/** Channel prefix for Electron IPC commands (`corral:start`, ...). */
export const IPC_COMMAND_PREFIX = 'corral:'
/** Electron IPC channel carrying every event. */
export const IPC_EVENT_CHANNEL = 'corral:event'
/**
 * Size of output in characters of its text: the unit the renderer queues by, and the one
 * Electron's flow control counts and acknowledges in (both sides must agree).
 */
export function outputChars(chunks: readonly OutputChunk[]): number {
  let n = 0
  for (const c of chunks) n += c.data.length
  return n
}

/** Channel on which the page acknowledges output (see {@link CorralBridge.acknowledgeOutput}). */
export const IPC_ACK_CHANNEL = 'corral:ack'

/** Channel on which the page names the processes it shows (see {@link CorralBridge.focusOutput}). */
export const IPC_FOCUS_CHANNEL = 'corral:focus'
