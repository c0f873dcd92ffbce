import { readFileSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import type * as NodePty from 'node-pty'
import type { TerminalSize } from '../../shared/contract'
import { statFields } from './process-group'

/** The node-pty module, as far as Corral uses it. */
export type PtyModule = typeof NodePty
/** A running pseudo-terminal. */
export type Pty = NodePty.IPty

/** Terminal type announced to programs (`TERM`); xterm.js emulates it. */
export const TERMINAL_NAME = 'xterm-256color'

/** Size a terminal starts with before any viewer has measured it. */
export const DEFAULT_TERMINAL_SIZE: Readonly<TerminalSize> = { cols: 80, rows: 24 }

/** Whether terminal mode works on this host, and if not, why. */
export interface PtyAvailability {
  available: boolean
  reason?: string
}

let loaded: { pty: PtyModule } | { error: string } | null = null

/**
 * node-pty, loaded on first use. It is a native module: when it is missing or was built for
 * another ABI, terminal mode is reported unavailable (with the reason) and pipe mode keeps
 * working; the host never fails to start because of it.
 */
export function loadPty(): PtyModule | null {
  if (!loaded) {
    try {
      // Loaded lazily and at run time, so the bundler leaves the native module alone.
      const req = createRequire(__filename)
      loaded = { pty: req('node-pty') as PtyModule }
    } catch (err) {
      loaded = { error: (err as Error).message.split('\n')[0] }
    }
  }
  return 'pty' in loaded ? loaded.pty : null
}

/** Whether processes can run in a pseudo-terminal here. */
export function ptyAvailability(): PtyAvailability {
  if (loadPty()) return { available: true }
  const why = loaded && 'error' in loaded ? loaded.error : 'unknown error'
  return { available: false, reason: `node-pty could not be loaded: ${why}` }
}

/** The name of a signal number (`15` -> `SIGTERM`), or `SIG<n>` for one Node does not know. */
export function signalName(signal: number): string {
  for (const [name, value] of Object.entries(os.constants.signals)) {
    if (value === signal) return name
  }
  return `SIG${signal}`
}

/**
 * The foreground process group of the terminal whose session `sessionLeader` leads, where the
 * platform tells (Linux `/proc`); null otherwise. Job-control shells (`bash -i`) put each job
 * in its own group, so a signal for "the process" must reach that group too.
 */
export function foregroundGroup(sessionLeader: number): number | null {
  if (process.platform !== 'linux') return null
  try {
    const tpgid = Number(statFields(readFileSync(`/proc/${sessionLeader}/stat`, 'utf8'))[5])
    return Number.isInteger(tpgid) && tpgid > 0 ? tpgid : null
  } catch {
    // The leader is gone (or /proc is not mounted): there is no foreground group to reach.
    return null
  }
}

/** node-pty's private parts that {@link drainAtEnd} needs (node-pty 1.1 on POSIX). */
interface PtyInternals {
  _fd?: unknown
  _socket?: {
    destroyed?: boolean
    once?: (event: 'end', listener: () => void) => void
    destroy?: (...args: unknown[]) => unknown
  }
}

/**
 * Make sure the last output of a terminal whose program has ended is read. A pseudo-terminal
 * hands out at most about 4 KiB per read, and libuv takes a short read together with a hang-up
 * for the end of the stream; node-pty also destroys the stream shortly after the program
 * exits. Either way, output the program wrote just before it ended (still in the kernel's
 * buffer) would be lost. So just before the stream ends or is destroyed, whatever is left is
 * read synchronously (the descriptor is non-blocking: EAGAIN or EIO ends the loop) and handed
 * to `onData`. Does nothing where node-pty's internals are not as expected.
 */
export function drainAtEnd(pty: Pty, onData: (bytes: Buffer) => void): void {
  const internals = pty as unknown as PtyInternals
  const fd = internals._fd
  const socket = internals._socket
  if (typeof fd !== 'number' || !socket || typeof socket.once !== 'function') return
  const drain = (): void => {
    if (socket.destroyed) return
    const buf = Buffer.allocUnsafe(64 * 1024)
    for (;;) {
      let n: number
      try {
        n = readSync(fd, buf, 0, buf.length, null)
      } catch {
        // EAGAIN (nothing left for now) or EIO (the terminal is closed and empty): done.
        return
      }
      if (n <= 0) return
      onData(Buffer.from(buf.subarray(0, n)))
    }
  }
  socket.once('end', drain)
  const destroy = socket.destroy
  if (typeof destroy === 'function') {
    socket.destroy = (...args: unknown[]) => {
      drain()
      return destroy.apply(socket, args)
    }
  }
}

/**
 * Flow-control watermarks, per xterm.js's guidance: reading from the terminal pauses while
 * more than {@link FLOW_HIGH_WATER_BYTES} of its output are unacknowledged by the viewer, and
 * resumes once that falls to {@link FLOW_LOW_WATER_BYTES}.
 */
export const FLOW_HIGH_WATER_BYTES = 100_000
/** See {@link FLOW_HIGH_WATER_BYTES}. */
export const FLOW_LOW_WATER_BYTES = 5_000
/**
 * A pause that sees no acknowledgement for this long is forgiven: the viewer is gone (page
 * closed, process no longer shown) and the program must not stay blocked on it.
 */
export const FLOW_STALL_MS = 2_000

/** Timers the flow control uses; injectable for tests. */
export interface FlowTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * Flow control of one terminal. Bytes sent to viewers count as unacknowledged; viewers
 * acknowledge what they have parsed. Counting is per process, not per viewer (any viewer's
 * acknowledgement counts, and over-acknowledgement is clamped at zero), and it is enforced
 * only once a viewer has acknowledged something: a process nobody watches runs at full speed.
 * A pause with no acknowledgement for {@link FLOW_STALL_MS} is forgiven and enforcement stops
 * until the next acknowledgement, so a viewer that went away never leaves the program paused.
 */
export class FlowControl {
  private unacked = 0
  private armed = false
  private pausedNow = false
  private stallTimer: unknown = null
  /** Times reading was paused so far (for tests and diagnostics). */
  pauses = 0

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly timers: FlowTimers = {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    private readonly highWater = FLOW_HIGH_WATER_BYTES,
    private readonly lowWater = FLOW_LOW_WATER_BYTES,
    private readonly stallMs = FLOW_STALL_MS,
  ) {}

  /** Whether reading is paused. */
  get paused(): boolean {
    return this.pausedNow
  }

  /** Unacknowledged bytes. */
  get pending(): number {
    return this.unacked
  }

  /** Bytes were sent to viewers. */
  sent(bytes: number): void {
    if (!this.armed) return
    this.unacked += bytes
    if (!this.pausedNow && this.unacked > this.highWater) {
      this.pausedNow = true
      this.pauses++
      this.pause()
      this.watchStall()
    }
  }

  /** A viewer parsed `bytes` more bytes (0 just says a viewer is watching). */
  ack(bytes: number): void {
    this.armed = true
    this.unacked = Math.max(0, this.unacked - bytes)
    if (!this.pausedNow) return
    if (this.unacked <= this.lowWater) this.release()
    else this.watchStall()
  }

  /** Resume without waiting for acknowledgements (the run is ending) and stop enforcing. */
  forgive(): void {
    this.armed = false
    this.unacked = 0
    if (this.pausedNow) this.release()
  }

  /** Stop timers; the terminal is gone. */
  dispose(): void {
    this.clearStall()
    this.pausedNow = false
    this.armed = false
    this.unacked = 0
  }

  private release(): void {
    this.clearStall()
    this.pausedNow = false
    this.resume()
  }

  private watchStall(): void {
    this.clearStall()
    this.stallTimer = this.timers.setTimeout(() => {
      this.stallTimer = null
      this.forgive()
    }, this.stallMs)
  }

  private clearStall(): void {
    if (this.stallTimer !== null) this.timers.clearTimeout(this.stallTimer)
    this.stallTimer = null
  }
}
