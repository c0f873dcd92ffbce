/**
 * The Electron entry: app lifecycle and the one window. Everything about processes lives in
 * the Electron-free core; this file only wires it to a hardened window.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { app, BrowserWindow, shell, session } from 'electron'
import { Host } from './core/host'
import { Supervisor } from './core/supervisor'
import { bindIpc } from './ipc'
import {
  allowNavigation,
  allowPermission,
  externalUrlToOpen,
  hardenedWebPreferences,
} from './core/window-policy'

let supervisor: Supervisor
let host: Host
let quitting = false

function createWindow(): void {
  const devUrl = process.env.ELECTRON_RENDERER_URL
  const indexFile = path.join(__dirname, '../renderer/index.html')
  const appOrigin = devUrl ? new URL(devUrl).origin : pathToFileURL(indexFile).href

  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    title: 'Corral',
    show: false,
    webPreferences: hardenedWebPreferences(path.join(__dirname, '../preload/index.js')),
  })
  win.once('ready-to-show', () => win.show())

  const unbind = bindIpc(host, win, appOrigin)
  win.on('closed', unbind)

  // The window never navigates and never opens windows; links the user clicks go to the
  // system browser.
  win.webContents.on('will-navigate', (event, url) => {
    if (!allowNavigation(url)) event.preventDefault()
  })
  win.webContents.on('will-redirect', (event, url) => {
    if (!allowNavigation(url)) event.preventDefault()
  })
  win.webContents.on('will-attach-webview', (event) => event.preventDefault())
  win.webContents.setWindowOpenHandler(({ url, disposition }) => {
    const external = externalUrlToOpen(url, disposition)
    if (external) void shell.openExternal(external)
    return { action: 'deny' }
  })

  if (devUrl) void win.loadURL(devUrl)
  else void win.loadFile(indexFile)
}

app.whenReady().then(() => {
  supervisor = new Supervisor({
    // CORRAL_DATA_DIR points a test run (or a second profile) at another folder.
    dataDir: process.env.CORRAL_DATA_DIR || app.getPath('userData'),
    watchdogScript: path.join(__dirname, 'watchdog.js'),
    spawnerScript: path.join(__dirname, 'spawner.js'),
    // Opt-in for now (see docs/output-worker.md): CORRAL_OUTPUT_WORKER=1.
    outputWorkerScript:
      process.env.CORRAL_OUTPUT_WORKER === '1'
        ? path.join(__dirname, 'output-worker.js')
        : undefined,
  })
  host = new Host(supervisor)
  // Unseen, while the window loads: the first process someone starts then runs on warm code.
  void supervisor.warmUp()
  void supervisor.autostart()
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(allowPermission(permission)),
  )
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => allowPermission(permission))
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

// Quitting stops every child first (SIGTERM to each group, SIGKILL after the grace period).
app.on('before-quit', (event) => {
  if (quitting || !supervisor) return
  event.preventDefault()
  quitting = true
  void supervisor.shutdown().finally(() => app.quit())
})
