import type { CallResult, EventName, OutputBatch, OutputChunk, OutputStream } from './contract'

/**
 * Messages of the headless host's WebSocket transport. The client sends calls; the server
 * answers each with a result carrying the same `id`, and pushes events to every client.
 */

/** Client -> server: invoke one command. */
export interface WireCall {
  t: 'call'
  id: number
  method: string
  args: unknown[]
}

/**
 * Client -> server: the client has processed this many more bytes of binary output frames.
 * A client that acknowledges gets output within a window of unacknowledged bytes, so what is
 * in flight (socket and kernel buffers included) stays small and an echo never queues behind
 * megabytes of another process's flood. Clients that never acknowledge are only limited by
 * the socket queue.
 */
export interface WireAck {
  t: 'ack'
  bytes: number
}

/**
 * Client -> server: the processes the client shows now (the UI's selected process). Their
 * floods get the whole flow-control window; other processes' output passes while quiet,
 * and their floods are held back while they go on and caught up with only their newest
 * output once they pause. A client that never says gets every process's output alike.
 */
export interface WireFocus {
  t: 'focus'
  ids: string[]
}

/** Bytes of output a client processes between acknowledgements. */
export const ACK_EVERY_BYTES = 128 * 1024

/** Server -> client: the outcome of a call. */
export type WireResult = { t: 'result'; id: number } & CallResult

/** Server -> client: an event. */
export interface WireEvent {
  t: 'event'
  name: EventName
  payload: unknown
}

/** Any server -> client message. */
export type WireServerMessage = WireResult | WireEvent

/** Path of the WebSocket endpoint on the headless host. */
export const WS_PATH = '/ws'
/** Query parameter (and cookie name) that carries the access token. */
export const TOKEN_PARAM = 'token'
/** Largest accepted WebSocket message from a client, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024 * 1024

/**
 * Output events travel as binary WebSocket frames: JSON-encoding megabytes of text with
 * newlines in it is several times slower than copying it as UTF-8 (it escapes every `\n`).
 * Layout: u32 LE length of the header, the header as UTF-8 JSON, then the UTF-8 text of every
 * chunk back to back. Every other message is JSON text.
 */
export interface OutputFrameHeader {
  id: string
  /** Each chunk's fields, with `bytes` in place of its text: the length of its UTF-8. */
  chunks: { seq: number; stream: OutputStream; time: number; bytes: number }[]
}

const frameDecoder = new TextDecoder('utf-8')

/** Decode a binary output frame back into the batch it carries. */
export function decodeOutputFrame(frame: Uint8Array): OutputBatch {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const headerBytes = view.getUint32(0, true)
  const header = JSON.parse(
    frameDecoder.decode(frame.subarray(4, 4 + headerBytes)),
  ) as OutputFrameHeader
  let offset = 4 + headerBytes
  const chunks: OutputChunk[] = header.chunks.map((c) => {
    const data = frameDecoder.decode(frame.subarray(offset, offset + c.bytes))
    offset += c.bytes
    return { seq: c.seq, stream: c.stream, time: c.time, data }
  })
  return { id: header.id, chunks }
}
