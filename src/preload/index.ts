/**
 * The preload: exposes the contract as `window.corral` and nothing else. Commands are built
 * from the contract's method list; events only by their known names. The renderer never
 * sees `ipcRenderer`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import {
  API_METHODS,
  EVENT_NAMES,
  IPC_ACK_CHANNEL,
  IPC_COMMAND_PREFIX,
  IPC_EVENT_CHANNEL,
  IPC_FOCUS_CHANNEL,
  type CallResult,
  type CorralBridge,
  type EventName,
} from '../shared/contract'

const commands = Object.fromEntries(
  API_METHODS.map((method) => [
    method,
    async (...args: unknown[]) => {
      const result = (await ipcRenderer.invoke(IPC_COMMAND_PREFIX + method, ...args)) as CallResult
      // A plain { code, message } object crosses the context bridge intact; an Error would not.
      if (!result.ok) throw result.error
      return result.value
    },
  ]),
)

const bridge = {
  ...commands,
  on(event: EventName, listener: (payload: unknown) => void): () => void {
    if (!(EVENT_NAMES as readonly string[]).includes(event)) {
      throw new Error(`Unknown Corral event: ${String(event)}`)
    }
    const handler = (_e: IpcRendererEvent, name: EventName, payload: unknown): void => {
      if (name === event) listener(payload)
    }
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler)
    }
  },
  acknowledgeOutput(size: number): void {
    ipcRenderer.send(IPC_ACK_CHANNEL, size)
  },
  focusOutput(ids: string[]): void {
    ipcRenderer.send(IPC_FOCUS_CHANNEL, ids)
  },
} as unknown as CorralBridge

contextBridge.exposeInMainWorld('corral', bridge)
