/**
 * Binds the transport-neutral host to Electron IPC: one handler per contract method, events
 * forwarded to the window. Only the app's own main frame may call.
 */
import { ipcMain, type BrowserWindow, type WebFrameMain } from 'electron'
import {
  API_METHODS,
  IPC_COMMAND_PREFIX,
  IPC_EVENT_CHANNEL,
  type CallResult,
} from '../shared/contract'
import type { Host } from './core/host'
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
  const unsubscribe = host.subscribe((name, payload) => {
    if (!win.isDestroyed()) win.webContents.send(IPC_EVENT_CHANNEL, name, payload)
  })
  return () => {
    unsubscribe()
    for (const method of API_METHODS) ipcMain.removeHandler(IPC_COMMAND_PREFIX + method)
  }
}
