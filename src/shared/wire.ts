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

/** Where a decoded chunk's text lies in the text of the frame it came in. */
export interface FrameText {
  text: string
  offset: number
}
const frameTexts = new WeakMap<OutputChunk, FrameText>()

/**
 * The text of the frame `chunk` was decoded from, when its text is a slice of it (see
 * {@link decodeOutputFrame}); the view keeps consecutive chunks as one slice of it.
 */
export function frameTextOf(chunk: OutputChunk): FrameText | undefined {
  return frameTexts.get(chunk)
}

/**
 * Processes whose last output frame had characters of several bytes (see
 * {@link decodeOutputFrame}). Bounded: past {@link MULTIBYTE_IDS_MAX} ids it starts over.
 */
const multibyteIds = new Set<string>()
const MULTIBYTE_IDS_MAX = 1024

/**
 * Decode a binary output frame back into the batch it carries. The chunks' text is decoded
 * at once and each chunk's is a slice of it, when each byte of it is a character (ASCII, and
 * an invalid byte as U+FFFD): then where one chunk ends in the text is where it ends in the
 * bytes, and the slices are what decoding each chunk alone gives.
 *
 * Text with characters of several bytes gives no such map from bytes to characters, so each
 * chunk's text is decoded on its own. A process whose last frame was such text has its next
 * one decoded chunk by chunk from the start, rather than whole first and then again chunk by
 * chunk: a flood with 10% of its lines multibyte cost the page twice the decoding otherwise.
 */
export function decodeOutputFrame(frame: Uint8Array): OutputBatch {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const headerBytes = view.getUint32(0, true)
  const header = JSON.parse(
    frameDecoder.decode(frame.subarray(4, 4 + headerBytes)),
  ) as OutputFrameHeader
  const body = frame.subarray(4 + headerBytes)
  const many = header.chunks.length > 1
  const text = many && multibyteIds.has(header.id) ? null : frameDecoder.decode(body)
  const sliced = text !== null && text.length === body.length
  let multibyte = text !== null && !sliced
  let offset = 0
  const chunks: OutputChunk[] = header.chunks.map((c) => {
    const end = offset + c.bytes
    let data: string
    if (text !== null && (sliced || !many)) data = many ? text.slice(offset, end) : text
    else {
      data = frameDecoder.decode(body.subarray(offset, end))
      if (data.length !== c.bytes) multibyte = true
    }
    const chunk: OutputChunk = { seq: c.seq, stream: c.stream, time: c.time, data }
    if (sliced) frameTexts.set(chunk, { text, offset })
    offset = end
    return chunk
  })
  if (!multibyte) multibyteIds.delete(header.id)
  else if (!multibyteIds.has(header.id)) {
    if (multibyteIds.size >= MULTIBYTE_IDS_MAX) multibyteIds.clear()
    multibyteIds.add(header.id)
  }
  return { id: header.id, chunks }
}
