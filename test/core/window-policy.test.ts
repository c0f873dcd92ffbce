import { describe, expect, it } from 'vitest'
import {
  allowNavigation,
  allowPermission,
  externalUrlToOpen,
  hardenedWebPreferences,
  isAppUrl,
} from '../../src/main/core/window-policy'

describe('window policy', () => {
  it('opens only clicked http(s) links without credentials in the system browser', () => {
    expect(externalUrlToOpen('https://example.com/a?b=1', 'foreground-tab')).toBe(
      'https://example.com/a?b=1',
    )
    expect(externalUrlToOpen('http://localhost:3000/', 'background-tab')).toBe(
      'http://localhost:3000/',
    )
    // A script's window.open arrives as new-window: refused.
    expect(externalUrlToOpen('https://example.com/', 'new-window')).toBeNull()
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
      'https://user:pw@example.com/',
      'not a url',
    ]) {
      expect(externalUrlToOpen(bad, 'foreground-tab')).toBeNull()
    }
  })

  it('blocks every navigation and every permission', () => {
    expect(allowNavigation('https://example.com/')).toBe(false)
    expect(allowNavigation('file:///work/out/renderer/index.html')).toBe(false)
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) {
      expect(allowPermission(p)).toBe(false)
    }
  })

  it('sets every security-relevant web preference explicitly', () => {
    expect(hardenedWebPreferences('/app/preload.js')).toEqual({
      preload: '/app/preload.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
    })
  })

  it('recognises the app page', () => {
    const file = 'file:///opt/corral/out/renderer/index.html'
    expect(isAppUrl(file, file)).toBe(true)
    expect(isAppUrl(`${file}#x`, file)).toBe(true)
    expect(isAppUrl('file:///opt/corral/out/renderer/index.html.evil', file)).toBe(false)
    expect(isAppUrl('file:///tmp/other.html', file)).toBe(false)
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173')).toBe(true)
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false)
  })
})
