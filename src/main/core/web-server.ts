import { timingSafeEqual } from 'node:crypto'
import { promises as fs } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CorralEvents, OutputChunk } from '../../shared/contract'
import type { OutputFrameHeader, WireAck, WireCall, WireServerMessage } from '../../shared/wire'
import { MAX_CLIENT_MESSAGE_BYTES, TOKEN_PARAM, WS_PATH } from '../../shared/wire'
import type { Host } from './host'
import { byteLength, bytesOf } from './utf8'

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  host: Host
  /** Folder with the built renderer (index.html and assets). */
  rendererDir: string
  /** Address to bind; loopback unless the user says otherwise. */
  bindHost: string
  /** Port; 0 picks any free port. */
  port: number
  /** The access token every request must carry. */
  token: string
}

/** A running web server. */
export interface WebServer {
  /** The URL that opens the UI already authorised. */
  url: string
  port: number
  close(): Promise<void>
}

const COOKIE_NAME = 'corral_token'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
}

/**
 * Serve the built renderer and carry the contract over a WebSocket. Every request must carry
 * the token (query parameter, or the cookie set when the page was opened with it); the
 * WebSocket also checks the Host and Origin headers, so neither another web page nor a DNS
 * rebinding attack can reach it.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { host, rendererDir, token } = options
  const rendererRoot = path.resolve(rendererDir)
  let allowedHosts = new Set<string>()

  const authorised = (req: http.IncomingMessage): boolean => {
    const url = new URL(req.url ?? '/', 'http://x')
    const given = url.searchParams.get(TOKEN_PARAM) ?? readCookie(req.headers.cookie, COOKIE_NAME)
    return given !== null && safeEqual(given, token)
  }
  const hostAllowed = (req: http.IncomingMessage): boolean =>
    allowedHosts.has((req.headers.host ?? '').toLowerCase())

  const server = http.createServer((req, res) => {
    void serveFile(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })

  const serveFile = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!hostAllowed(req)) return reply(res, 421, 'Misdirected request')
    if (!authorised(req))
      return reply(res, 401, 'Corral: missing or wrong token. Open the URL printed by the host.')
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'Method not allowed')
    const url = new URL(req.url ?? '/', 'http://x')
    let rel = decodeURIComponent(url.pathname)
    if (rel === '/' || rel === '') rel = '/index.html'
    const file = path.resolve(rendererRoot, '.' + rel)
    if (!file.startsWith(rendererRoot + path.sep)) return reply(res, 404, 'Not found')
    let body: Buffer
    try {
      body = await fs.readFile(file)
    } catch {
      return reply(res, 404, 'Not found')
    }
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    }
    if (url.searchParams.has(TOKEN_PARAM)) {
      // Lets the page's own asset requests through without the token in every URL.
      headers['Set-Cookie'] =
        `${COOKIE_NAME}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`
    }
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    // Output is sent as fragments written straight to the socket; compression would copy it.
    perMessageDeflate: false,
  })

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const origin = req.headers.origin
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (url.pathname !== WS_PATH) return refuse(404, 'Not Found')
    if (!hostAllowed(req)) return refuse(421, 'Misdirected Request')
    if (!authorised(req)) return refuse(401, 'Unauthorized')
    // Browsers always send Origin on WebSocket requests; it must be this very host.
    if (origin !== undefined && !allowedHosts.has(originHost(origin)))
      return refuse(403, 'Forbidden')
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, host))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.bindHost, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const bound = options.bindHost.includes(':') ? `[${options.bindHost}]` : options.bindHost
  allowedHosts = new Set([`${bound}:${port}`.toLowerCase()])
  if (isLoopback(options.bindHost)) allowedHosts.add(`localhost:${port}`)

  return {
    url: `http://${bound}:${port}/?${TOKEN_PARAM}=${encodeURIComponent(token)}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * Bytes queued on a socket above which output for it is held back. A slow client (or one on
 * a slow link) then skips ahead instead of making the host queue without bound; it is caught
 * up from the process's buffer once its queue drains, and status events are never held back.
 */
export const WS_HIGH_WATER_BYTES = 1024 * 1024
/**
 * Unacknowledged output bytes allowed in flight to a client that acknowledges (WireAck).
 * Small enough that an echo behind a flood waits for little (output of a quiet process
 * passes the window, but not the bytes already on their way), large enough for a view to be
 * fed faster than it can show.
 */
export const WS_ACK_WINDOW_BYTES = 256 * 1024

/** Most output sent to a held-back client when it is caught up; older output is skipped. */
export const WS_CATCH_UP_BYTES = 256 * 1024
/** Queue size below which a held-back client is caught up. */
export const WS_LOW_WATER_BYTES = 256 * 1024
/**
 * A process that sent less than this within the last {@link WS_RATE_WINDOW_MS} is quiet: its
 * output passes even when the queue is full, so an echo typed into one process does not wait
 * behind (or get dropped with) another process's flood. A flood of small batches is still a
 * flood and is held back.
 */
export const WS_QUIET_BYTES = 32 * 1024
/** The window over which a process's sending rate is judged. */
export const WS_RATE_WINDOW_MS = 100
const CATCH_UP_POLL_MS = 16

function serveSocket(ws: WebSocket, host: Host): void {
  const send = (msg: WireServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
  }
  const sendOutput = (batch: CorralEvents['output']): void => {
    if (ws.readyState !== ws.OPEN) return
    // One message in fragments, sent back to back so nothing can come between them.
    const fragments = encodeOutputFrame(batch)
    fragments.forEach((f, i) => ws.send(f, { binary: true, fin: i === fragments.length - 1 }))
    unacked += byteLength(fragments)
  }
  // Flow control for clients that acknowledge: bytes sent but not yet acknowledged.
  let acking = false
  let unacked = 0
  /** Bytes that may still be sent before floods are held back. */
  const room = (): number =>
    Math.min(
      WS_HIGH_WATER_BYTES - ws.bufferedAmount,
      acking ? WS_ACK_WINDOW_BYTES - unacked : Infinity,
    )
  /** Little enough in flight to catch up. */
  const drained = (): boolean =>
    ws.bufferedAmount <= WS_LOW_WATER_BYTES && (!acking || unacked <= WS_ACK_WINDOW_BYTES / 2)
  // Per held-back process: the last sequence number this client was sent.
  const heldBack = new Map<string, number>()
  // Per process: bytes sent to this client in the current rate window.
  const recent = new Map<string, { since: number; bytes: number }>()
  const quiet = (id: string, bytes: number): boolean => {
    const now = Date.now()
    let r = recent.get(id)
    if (!r || now - r.since > WS_RATE_WINDOW_MS) recent.set(id, (r = { since: now, bytes: 0 }))
    r.bytes += bytes
    return r.bytes <= WS_QUIET_BYTES
  }
  let poll: NodeJS.Timeout | null = null

  const catchUp = (): void => {
    if (!drained()) return
    for (const [id, afterSeq] of heldBack) {
      const snap = host.outputSince(id, afterSeq)
      // Skip ahead: send only the newest output, up to a bound. The client sees the jump in
      // sequence numbers and offers the skipped range from the run log on disk.
      if (snap && snap.chunks.length)
        sendOutput({ id, chunks: newestWithin(snap.chunks, WS_CATCH_UP_BYTES) })
    }
    heldBack.clear()
    if (poll) clearInterval(poll)
    poll = null
  }

  const unsubscribe = host.subscribe((name, payload) => {
    if (name === 'output') {
      const batch = payload as CorralEvents['output']
      if (heldBack.has(batch.id)) return
      if (quiet(batch.id, batchBytes(batch))) return sendOutput(batch)
      // A flood: send what fits in the window (at least one chunk while there is room), and
      // hold the rest back until the client has caught up.
      let fits = 0
      for (let left = room(); fits < batch.chunks.length && left > 0; fits++) {
        left -= byteLength(bytesOf(batch.chunks[fits]))
      }
      if (fits > 0)
        sendOutput(
          fits === batch.chunks.length
            ? batch
            : { id: batch.id, chunks: batch.chunks.slice(0, fits) },
        )
      if (fits < batch.chunks.length) {
        heldBack.set(batch.id, batch.chunks[fits].seq - 1)
        poll ??= setInterval(catchUp, CATCH_UP_POLL_MS)
      }
      return
    }
    send({ t: 'event', name, payload })
  })
  ws.on('close', () => {
    unsubscribe()
    recent.clear()
    if (poll) clearInterval(poll)
  })
  ws.on('error', () => {
    // A broken connection closes itself; 'close' cleans up.
  })
  ws.on('message', (data, isBinary) => {
    let msg: Partial<WireCall>
    try {
      if (isBinary) throw new Error('binary')
      msg = JSON.parse(data.toString()) as Partial<WireCall>
      if (typeof msg !== 'object' || msg === null) throw new Error('not an object')
    } catch {
      send(invalid(-1, 'Malformed message: expected JSON text.'))
      return
    }
    const ack = msg as Partial<WireAck>
    if (ack.t === 'ack' && typeof ack.bytes === 'number' && ack.bytes >= 0) {
      acking = true
      unacked = Math.max(0, unacked - ack.bytes)
      return
    }
    const id = typeof msg.id === 'number' && Number.isSafeInteger(msg.id) ? msg.id : -1
    if (msg.t !== 'call' || id < 0) {
      send(invalid(id, 'Malformed call: expected { t: "call", id, method, args }.'))
      return
    }
    const args = msg.args === undefined ? [] : msg.args
    void host.call(msg.method, args).then((result) => send({ t: 'result', id, ...result }))
  })
}

/**
 * Encode an output batch as a binary message (layout in shared/wire.ts), as a list of
 * fragments: the header, then each chunk's bytes as they were read, so nothing is copied.
 */
export function encodeOutputFrame(batch: CorralEvents['output']): Buffer[] {
  const bodies = batch.chunks.map(bytesOf)
  const header: OutputFrameHeader = {
    id: batch.id,
    chunks: batch.chunks.map((c, i) => ({
      seq: c.seq,
      stream: c.stream,
      time: c.time,
      bytes: byteLength(bodies[i]),
    })),
  }
  const json = JSON.stringify(header)
  const head = Buffer.allocUnsafe(4 + Buffer.byteLength(json))
  head.writeUInt32LE(head.length - 4, 0)
  head.write(json, 4, 'utf8')
  return [head, ...bodies.flat()]
}

/** The newest chunks whose bytes fit in `limit` (always at least the newest one). */
function newestWithin(chunks: OutputChunk[], limit: number): OutputChunk[] {
  let total = 0
  let first = chunks.length - 1
  while (first > 0) {
    total += byteLength(bytesOf(chunks[first]))
    if (total + byteLength(bytesOf(chunks[first - 1])) > limit) break
    first--
  }
  return chunks.slice(first)
}

function batchBytes(batch: CorralEvents['output']): number {
  let n = 0
  for (const c of batch.chunks) n += byteLength(bytesOf(c))
  return n
}

function invalid(id: number, message: string): WireServerMessage {
  return { t: 'result', id, ok: false, error: { code: 'INVALID_PAYLOAD', message } }
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
  res.end(text)
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  // Compare equal-length buffers so the time taken does not reveal the token.
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return null
      }
    }
  }
  return null
}

function originHost(origin: string): string {
  try {
    const u = new URL(origin)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host.toLowerCase() : ''
  } catch {
    return ''
  }
}

/** Whether an address is a loopback address. */
export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.')
}
