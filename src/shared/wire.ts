import type { CallResult, EventName } from './contract'

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
