/**
 * The renderer's single transport switch. In Electron the preload exposes the contract as
 * `window.corral`; in a browser served by the headless host the same interface is carried
 * over a WebSocket. Nothing else in the renderer knows which one it is talking to.
 */
import {
  API_METHODS,
  EVENT_NAMES,
  isCorralErrorData,
  outputChars,
  type ApiMethod,
  type CorralApi,
  type CorralBridge,
  type CorralErrorData,
  type CorralEvents,
  type EventName,
  type OutputBatch,
  type ProcessId,
} from '../../shared/contract'
import {
  ACK_EVERY_BYTES,
  decodeOutputFrame,
  TOKEN_PARAM,
  WS_PATH,
  type WireAck,
  type WireCall,
  type WireFocus,
  type WireServerMessage,
} from '../../shared/wire'

/** Connection to the main side: always `open` in Electron. */
export type ConnectionState = 'connecting' | 'open' | 'closed'

/** The contract plus what only the renderer needs to know about its transport. */
export interface RendererBridge extends CorralBridge {
  readonly transport: 'electron' | 'websocket'
  /** Current connection state. */
  connectionState(): ConnectionState
  /**
   * Called on every connection change. After a reconnect the renderer must resynchronise
   * (events sent while it was away are not replayed).
   */
  onConnection(listener: (state: ConnectionState) => void): () => void
  /**
   * From now on, acknowledge output (flow control, see `WireAck`) only when
   * {@link RendererBridge.ackOutput} is called for it, not as soon as the listeners were
   * called. A page that applies output slower than it arrives then makes the host hold
   * output back and skip ahead, instead of queueing work that makes its frames long.
   */
  deferOutputAcks(): void
  /** The page has taken in a batch delivered through `on('output')` (applied or dropped it). */
  ackOutput(batch: OutputBatch): void
  /** The page shows only these processes now (flow control, see `WireFocus`). */
  focusOutput(ids: ProcessId[]): void
}

/** An error from the main side, with its machine-readable code. */
export class BridgeError extends Error implements CorralErrorData {
  readonly code: CorralErrorData['code']
  constructor(data: CorralErrorData) {
    super(data.message)
    this.name = 'BridgeError'
    this.code = data.code
  }
}

/** The message of any error a bridge call rejected with. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  if (isCorralErrorData(err)) return err.message
  return String(err)
}

declare global {
  interface Window {
    corral?: CorralBridge
  }
}

function fromElectron(api: CorralBridge): RendererBridge {
  // The preload rejects with plain { code, message } objects (Errors lose their fields
  // crossing the context bridge); turn them back into BridgeErrors.
  const wrapped = Object.fromEntries(
    API_METHODS.map((m) => [
      m,
      (...args: unknown[]) =>
        (api[m] as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
          throw isCorralErrorData(err) ? new BridgeError(err) : err
        }),
    ]),
  ) as unknown as CorralApi
  let deferAcks = false
  return {
    ...wrapped,
    on: (event, listener) => api.on(event, listener),
    transport: 'electron',
    connectionState: () => 'open',
    onConnection: () => () => {},
    deferOutputAcks: () => {
      deferAcks = true
      // An acknowledgement of nothing: main holds this page to its window from the first
      // output on, not only from its first real acknowledgement (see the socket's open).
      api.acknowledgeOutput?.(0)
    },
    // Main counts output in characters of the chunks' text (see main/ipc.ts); so does this.
    ackOutput: (batch) => {
      if (deferAcks) api.acknowledgeOutput?.(outputChars(batch.chunks))
    },
    focusOutput: (ids) => api.focusOutput?.(ids),
  }
}

type Listener = (payload: never) => void

const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5000

function fromWebSocket(): RendererBridge {
  const token = new URLSearchParams(location.search).get(TOKEN_PARAM) ?? ''
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const url = `${scheme}//${location.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`

  const listeners = new Map<EventName, Set<Listener>>()
  const connectionListeners = new Set<(s: ConnectionState) => void>()
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  const queue: string[] = []
  let nextId = 1
  let state: ConnectionState = 'connecting'
  let socket: WebSocket
  let retryMs = RECONNECT_MIN_MS
  let unacked = 0
  let deferAcks = false
  /** The last focus message, sent again on every new connection. */
  let focus: string | null = null
  /** Size of each delivered batch not yet acknowledged, and the socket it came by. */
  const toAck = new WeakMap<OutputBatch, { bytes: number; socket: WebSocket }>()

  const ack = (from: WebSocket, bytes: number): void => {
    // Bytes that came by an earlier connection are not the current one's to acknowledge.
    if (from !== socket) return
    unacked += bytes
    if (unacked >= ACK_EVERY_BYTES && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ t: 'ack', bytes: unacked } satisfies WireAck))
      unacked = 0
    }
  }

  const setState = (next: ConnectionState): void => {
    if (state === next) return
    state = next
    for (const l of connectionListeners) l(next)
  }

  const connect = (): void => {
    setState('connecting')
    socket = new WebSocket(url)
    socket.binaryType = 'arraybuffer'
    unacked = 0
    socket.onopen = () => {
      retryMs = RECONNECT_MIN_MS
      setState('open')
      // This client acknowledges output (see WireAck): it says so at once, with an
      // acknowledgement of nothing, so that its window applies from the first output. Until a
      // client's first acknowledgement the host is bounded only by the socket's queue, which
      // drains into the kernel's buffers: a flood started on a fresh page sent it 2 MiB
      // before the page could answer, all of it to apply before the flood's last lines.
      socket.send(JSON.stringify({ t: 'ack', bytes: 0 } satisfies WireAck))
      if (focus) socket.send(focus)
      for (const msg of queue.splice(0)) socket.send(msg)
    }
    socket.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
      if (typeof ev.data !== 'string') {
        // Output arrives as binary frames (see shared/wire.ts).
        const batch = decodeOutputFrame(new Uint8Array(ev.data))
        if (deferAcks) toAck.set(batch, { bytes: ev.data.byteLength, socket })
        for (const l of listeners.get('output') ?? []) (l as (p: unknown) => void)(batch)
        // Flow control (see WireAck): acknowledged once the listeners have taken it in, or,
        // when deferred, once it was applied.
        if (!deferAcks) ack(socket, ev.data.byteLength)
        return
      }
      const msg = JSON.parse(ev.data) as WireServerMessage
      if (msg.t === 'event') {
        for (const l of listeners.get(msg.name) ?? []) (l as (p: unknown) => void)(msg.payload)
        return
      }
      const call = pending.get(msg.id)
      if (!call) return
      pending.delete(msg.id)
      if (msg.ok) call.resolve(msg.value)
      else call.reject(new BridgeError(msg.error))
    }
    socket.onclose = () => {
      for (const call of pending.values()) {
        call.reject(
          new BridgeError({ code: 'INTERNAL', message: 'The connection to Corral was lost.' }),
        )
      }
      pending.clear()
      setState('closed')
      setTimeout(connect, retryMs)
      retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS)
    }
  }
  connect()

  const call = (method: ApiMethod, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      const msg: WireCall = { t: 'call', id, method, args }
      const text = JSON.stringify(msg)
      pending.set(id, { resolve, reject })
      if (state === 'open') socket.send(text)
      else queue.push(text)
    })

  const api = Object.fromEntries(
    API_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)]),
  ) as unknown as CorralApi

  return {
    ...api,
    transport: 'websocket',
    on(event, listener) {
      if (!(EVENT_NAMES as readonly string[]).includes(event))
        throw new Error(`Unknown event ${event}`)
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener as Listener)
      return () => set.delete(listener as Listener)
    },
    connectionState: () => state,
    onConnection(listener) {
      connectionListeners.add(listener)
      return () => connectionListeners.delete(listener)
    },
    deferOutputAcks() {
      deferAcks = true
    },
    ackOutput(batch) {
      const entry = toAck.get(batch)
      if (!entry) return
      toAck.delete(batch)
      ack(entry.socket, entry.bytes)
    },
    focusOutput(ids) {
      focus = JSON.stringify({ t: 'focus', ids } satisfies WireFocus)
      if (state === 'open') socket.send(focus)
    },
  }
}

let bridge: RendererBridge | null = null

/** The bridge for this page, created on first use. */
export function getBridge(): RendererBridge {
  bridge ??= window.corral ? fromElectron(window.corral) : fromWebSocket()
  return bridge
}

/** Typed event payload helper for consumers. */
export type EventPayload<E extends EventName> = CorralEvents[E]
