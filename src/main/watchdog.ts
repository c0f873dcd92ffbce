/**
 * Corral's watchdog: a tiny plain-Node program in its own session that outlives Corral.
 * Corral tells it, over a pipe on its stdin, which process groups it started (`+PGID`) and
 * which have ended (`-PGID`). When the pipe reaches end of file, Corral is gone (however it
 * died, SIGKILL included), and the watchdog ends every group still recorded: SIGTERM, then
 * SIGKILL after the grace period, then exits.
 */
import { CRASH_GRACE_MS, parseWatchdogLine } from './core/watchdog-protocol'

process.title = 'corral-watchdog'
const groups = new Set<number>()
let pending = ''

// Signals meant for Corral's terminal must not end the watchdog before it has done its job.
for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM'] as const) process.on(sig, () => {})

process.stdin.setEncoding('utf8')
process.stdin.on('data', (text: string) => {
  pending += text
  const lines = pending.split('\n')
  pending = lines.pop() ?? ''
  for (const line of lines) {
    const msg = parseWatchdogLine(line)
    if (msg?.op === 'add') groups.add(msg.pgid)
    else if (msg?.op === 'remove') groups.delete(msg.pgid)
  }
})
process.stdin.on('close', () => void reap())
process.stdin.on('error', () => void reap())

let reaping = false
async function reap(): Promise<void> {
  if (reaping) return
  reaping = true
  signalAll('SIGTERM')
  const deadline = Date.now() + CRASH_GRACE_MS
  while (Date.now() < deadline && [...groups].some(alive)) {
    await new Promise((r) => setTimeout(r, 25))
  }
  signalAll('SIGKILL')
  process.exit(0)
}

function signalAll(signal: NodeJS.Signals): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal)
    } catch {
      // ESRCH: that group already ended.
    }
  }
}

function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
