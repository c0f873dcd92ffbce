/**
 * The headless host: Corral without Electron. Serves the built renderer and carries the
 * contract over a WebSocket on loopback, for servers, for browsers and for tests.
 *
 *   node out/main/headless.js [--host 127.0.0.1] [--port 0] [--token T]
 */
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { AtomicFileWriter } from './core/atomic-file'
import { Host } from './core/host'
import { Supervisor } from './core/supervisor'
import { defaultDataDir } from './core/paths'
import { isLoopback, startWebServer } from './core/web-server'

const USAGE = `Usage: npm run serve -- [--host ADDRESS] [--port N] [--token TOKEN]

  --host ADDRESS   address to bind (default 127.0.0.1; anything else is reachable from the network)
  --port N         port (default 7400; 0 = any free port)
  --token TOKEN    access token (default: CORRAL_TOKEN, or a new random token)
  --data-dir DIR   where saved processes and run logs are kept
                   (default: the per-user app data folder, ${defaultDataDir()})
  --renderer DIR   built renderer folder (default: out/renderer next to this script)
`

/** A stop slower than this says on stderr where its time went. */
const SLOW_SHUTDOWN_MS = 2000

async function main(): Promise<void> {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '7400' },
        token: { type: 'string' },
        renderer: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`Invalid --port "${values.port}": expected 0-65535.\n`)
    process.exit(2)
  }
  const token = values.token || process.env.CORRAL_TOKEN || randomBytes(24).toString('base64url')
  if (!isLoopback(values.host)) {
    process.stderr.write(
      `Warning: binding ${values.host} makes Corral reachable from the network. Anyone with the token can run commands as ${process.env.USER ?? 'this user'}.\n`,
    )
  }

  const supervisor = new Supervisor({
    dataDir: path.resolve(values['data-dir'] ?? defaultDataDir()),
    watchdogScript: path.join(__dirname, 'watchdog.js'),
    spawnerScript: path.join(__dirname, 'spawner.js'),
    // Opt-in for now (see docs/output-worker.md): CORRAL_OUTPUT_WORKER=1.
    outputWorkerScript:
      process.env.CORRAL_OUTPUT_WORKER === '1'
        ? path.join(__dirname, 'output-worker.js')
        : undefined,
  })
  for (const warning of supervisor.warnings) process.stderr.write(`Warning: ${warning}\n`)
  // Unseen, while the server starts: the first process someone starts then runs on warm code.
  void supervisor.warmUp()
  const host = new Host(supervisor)
  const server = await startWebServer({
    host,
    rendererDir: values.renderer ?? path.join(__dirname, '../renderer'),
    bindHost: values.host,
    port,
    token,
  }).catch((err: Error) => {
    process.stderr.write(`Corral could not listen on ${values.host}:${port}: ${err.message}\n`)
    process.exit(1)
  })
  // Whoever reads this output may be gone (a pipe closed, a terminal hung up): writing to it
  // then fails, and that must never take the host down, least of all while it stops processes.
  for (const out of [process.stdout, process.stderr]) out.on('error', () => {})
  process.stdout.write(`Corral is serving at ${server.url}\n`)
  if (process.env.CORRAL_LOOP_STATS_FILE) reportLoopDelay(process.env.CORRAL_LOOP_STATS_FILE)
  await supervisor.autostart()

  let shuttingDown = false
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return
    shuttingDown = true
    process.stdout.write(`Corral: ${signal} received, stopping every process…\n`)
    const started = performance.now()
    const times = await supervisor.shutdown()
    await server.close()
    const ms = performance.now() - started
    if (ms > SLOW_SHUTDOWN_MS) {
      const parts = Object.entries(times).map(([part, t]) => `${part} ${t} ms`)
      process.stderr.write(`Corral: stopping took ${Math.round(ms)} ms (${parts.join(', ')})\n`)
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

/**
 * Diagnostics for `npm run bench`: sample the event loop's delay and write its percentiles
 * (ms) to `file` twice a second. Off unless CORRAL_LOOP_STATS_FILE is set.
 */
function reportLoopDelay(file: string): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const stats = (): string => {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100
    return JSON.stringify({
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      rssMB: Math.round(process.memoryUsage.rss() / 1e5) / 10,
    })
  }
  // Off the event loop, and replaced whole: a write that truncates the file in place can
  // wait seconds for the disk while a flood is being written (with the bench reading an
  // empty file meanwhile), and this loop's delay is what is measured.
  const writer = new AtomicFileWriter(file, () => {})
  setInterval(() => writer.write(stats), 500).unref()
  process.on('SIGUSR2', () => {
    histogram.reset()
    writer.write(stats)
  })
}

void main()
