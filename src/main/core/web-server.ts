import { timingSafeEqual } from 'node:crypto'
import { promises as fs } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import path from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CorralEvents } from '../../shared/contract'
import type {
  OutputFrameHeader,
  WireAck,
  WireCall,
  WireFocus,
  WireServerMessage,
} from '../../shared/wire'
import { MAX_CLIENT_MESSAGE_BYTES, TOKEN_PARAM, WS_PATH } from '../../shared/wire'
import type { Host } from './host'
import { OutputFlow } from './output-flow'
import { TurnPacer } from './pacer'
import { parseFocus } from './schemas'
import { Staging } from './staging'
import { byteSizeOf, copyBytesInto, stillKept } from './utf8'

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
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, socket, host))
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

function serveSocket(ws: WebSocket, socket: Duplex, host: Host): void {
  const send = (msg: WireServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
  }
  const bulky = new TurnPacer()
  const sendOutput = (batch: CorralEvents['output']): number => {
    if (ws.readyState !== ws.OPEN) return 0
    const frame = encodeOutputFrame(batch, (n) => frameStaging.alloc(n))
    if (!frame) return 0
    corkForTurn(socket)
    // The socket may keep the frame until it is written; then its memory is reused.
    ws.send(frame, { binary: true }, () => frameStaging.release(frame))
    return frame.length
  }
  // Flow control (see OutputFlow), counted in bytes of output frames.
  const flow = new OutputFlow(
    {
      send: sendOutput,
      size: byteSizeOf,
      queued: () => ws.bufferedAmount,
    },
    (id, afterSeq, maxBytes) => host.outputSince(id, afterSeq, maxBytes),
    (ids) => host.viewing(flow, ids),
  )

  const unsubscribe = host.subscribe((name, payload) => {
    if (name === 'output') return flow.offer(payload as CorralEvents['output'])
    send({ t: 'event', name, payload })
  })
  ws.on('close', () => {
    unsubscribe()
    flow.dispose()
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
      flow.ack(ack.bytes)
      return
    }
    if ((msg as Partial<WireFocus>).t === 'focus') {
      const ids = parseFocus((msg as Partial<WireFocus>).ids)
      if (ids) flow.focus(ids)
      else send(invalid(-1, 'Malformed focus: expected { t: "focus", ids: [process ids] }.'))
      return
    }
    const id = typeof msg.id === 'number' && Number.isSafeInteger(msg.id) ? msg.id : -1
    if (msg.t !== 'call' || id < 0) {
      send(invalid(id, 'Malformed call: expected { t: "call", id, method, args }.'))
      return
    }
    const args = msg.args === undefined ? [] : msg.args
    const method = msg.method
    void host.call(method, args).then((result) => {
      const reply = (): void => send({ t: 'result', id, ...result })
      if (typeof method === 'string' && BULKY_RESULTS.has(method)) void bulky.turn().then(reply)
      else reply()
    })
  })
}

/**
 * Methods whose results carry output (megabytes each, as JSON text). A page that loads asks
 * for every process's output at once; encoding all the answers in one turn stalled the event
 * loop for 0.35–0.7 s with 250 processes (B5 with the UI open), so they leave one per turn.
 */
const BULKY_RESULTS: ReadonlySet<string> = new Set(['output', 'runOutput'])

const corkedThisTurn = new WeakSet<Duplex>()

/**
 * Hold what is written to `socket` until the end of this turn of the event loop, then write it
 * all at once. The output frames of one turn then leave in one system call, not one per
 * batch: with many processes flooding, that is one wake-up of the reader per turn instead of
 * dozens, each of which could hand it the CPU in the middle of the turn (B5 in
 * `npm run bench`: main loop p99 about 25 ms against 32).
 */
export function corkForTurn(socket: Duplex): void {
  if (corkedThisTurn.has(socket)) return
  corkedThisTurn.add(socket)
  socket.cork()
  setImmediate(() => {
    corkedThisTurn.delete(socket)
    socket.uncork()
  })
}

/**
 * Memory output frames are built in, reused once the socket has written them: a viewer that
 * takes everything (a script following all output) costs no allocation per frame.
 */
const frameStaging = new Staging()

/**
 * Encode an output batch as one binary message (layout in shared/wire.ts) in memory from
 * `alloc`: the header, then each chunk's bytes. The bytes are copied: the socket may hold the
 * message long after the memory they were read into is reused (see Staging). Chunks whose
 * bytes are no longer kept (the output worker reused their memory first) are left out, and
 * the viewer sees the jump in sequence numbers; null when none is left.
 */
export function encodeOutputFrame(
  batch: CorralEvents['output'],
  alloc: (n: number) => Buffer,
): Buffer | null {
  const chunks = batch.chunks.filter(stillKept)
  if (chunks.length === 0) return null
  const sizes = chunks.map(byteSizeOf)
  const header: OutputFrameHeader = {
    id: batch.id,
    chunks: chunks.map((c, i) => ({ seq: c.seq, stream: c.stream, time: c.time, bytes: sizes[i] })),
  }
  const json = JSON.stringify(header)
  const headBytes = Buffer.byteLength(json)
  let total = 4 + headBytes
  for (const size of sizes) total += size
  const frame = alloc(total)
  frame.writeUInt32LE(headBytes, 0)
  let at = 4 + frame.write(json, 4, 'utf8')
  for (let i = 0; i < chunks.length; i++) {
    // Gone while this frame was built (the worker reused its memory): build it without.
    if (!copyBytesInto(chunks[i], frame, at))
      return encodeOutputFrame({ id: batch.id, chunks }, alloc)
    at += sizes[i]
  }
  return frame
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
