/**
 * Binds the transport-neutral host to Electron IPC: one handler per contract method, events
 * forwarded to the window. Only the app's own main frame may call.
 */
import { ipcMain, type BrowserWindow, type IpcMainEvent, type WebFrameMain } from 'electron'
import {
  API_METHODS,
  IPC_ACK_CHANNEL,
  IPC_COMMAND_PREFIX,
  IPC_EVENT_CHANNEL,
  IPC_FOCUS_CHANNEL,
  outputChars,
  type CallResult,
  type CorralEvents,
} from '../shared/contract'
import type { Host } from './core/host'
import { OutputFlow } from './core/output-flow'
import { MAX_ACK_BYTES, parseFocus } from './core/schemas'
import { byteSizeOf, keptChunks } from './core/utf8'
import { isAppUrl } from './core/window-policy'

/** Whether a frame is the window's own top frame showing the app's own page. */
export function isTrustedFrame(
  frame: Pick<WebFrameMain, 'url'> | null | undefined,
  mainFrame: unknown,
  appOrigin: string,
): boolean {
  return !!frame && frame === mainFrame && isAppUrl(frame.url, appOrigin)
}

/** Register IPC handlers for `win`; returns a function that removes them. */
export function bindIpc(host: Host, win: BrowserWindow, appOrigin: string): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(
      IPC_COMMAND_PREFIX + method,
      (event, ...args): Promise<CallResult> | CallResult => {
        if (!isTrustedFrame(event.senderFrame, win.webContents.mainFrame, appOrigin)) {
          return {
            ok: false,
            error: {
              code: 'FORBIDDEN',
              message: 'Calls are accepted only from the Corral window.',
            },
          }
        }
        return host.call(method, args)
      },
    )
  }
  const send = (name: string, payload: unknown): void => {
    if (!win.isDestroyed()) win.webContents.send(IPC_EVENT_CHANNEL, name, payload)
  }
  // Flow control (see OutputFlow), counted in characters of the chunks' text.
  const flow = new OutputFlow(
    {
      send: (batch) => {
        // Chunks the output worker reused the memory of first are left out (see keptChunks).
        const chunks = keptChunks(batch.chunks)
        if (chunks.length === 0) return 0
        send('output', { id: batch.id, chunks })
        return outputChars(chunks)
      },
      // Bytes, known without reading the chunk: never fewer than its characters.
      size: byteSizeOf,
      queued: () => 0,
    },
    (id, afterSeq, maxBytes) => host.outputSince(id, afterSeq, maxBytes),
    (ids) => host.viewing(flow, ids),
  )
  const onAck = (event: IpcMainEvent, size: unknown): void => {
    if (!isTrustedFrame(event.senderFrame, win.webContents.mainFrame, appOrigin)) return
    if (
      typeof size === 'number' &&
      Number.isSafeInteger(size) &&
      size >= 0 &&
      size <= MAX_ACK_BYTES
    )
      flow.ack(size)
  }
  ipcMain.on(IPC_ACK_CHANNEL, onAck)
  const onFocus = (event: IpcMainEvent, ids: unknown): void => {
    if (!isTrustedFrame(event.senderFrame, win.webContents.mainFrame, appOrigin)) return
    const focus = parseFocus(ids)
    if (focus) flow.focus(focus)
  }
  ipcMain.on(IPC_FOCUS_CHANNEL, onFocus)
  const unsubscribe = host.subscribe((name, payload) => {
    if (name === 'output') flow.offer(payload as CorralEvents['output'])
    else send(name, payload)
  })
  return () => {
    unsubscribe()
    flow.dispose()
    ipcMain.removeListener(IPC_ACK_CHANNEL, onAck)
    ipcMain.removeListener(IPC_FOCUS_CHANNEL, onFocus)
    for (const method of API_METHODS) ipcMain.removeHandler(IPC_COMMAND_PREFIX + method)
  }
}
