import { expect, test } from './fixtures'

// Checks that only make sense in the desktop app: read back from Electron's main process.
test.describe('Electron hardening', () => {
  test.skip(({ corralTarget }) => corralTarget !== 'electron', 'desktop app only')

  test('the renderer has no Node, only the bridge', async ({ app }) => {
    // The preferences themselves are unit-tested (window-policy.test.ts); here, their effects.
    const seen = await app.page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>
      return { require: typeof w.require, process: typeof w.process, corral: typeof w.corral }
    })
    expect(seen).toEqual({ require: 'undefined', process: 'undefined', corral: 'object' })
  })

  test('navigation away is blocked and permissions are denied', async ({ app }) => {
    const { page } = app
    const before = page.url()
    await page.evaluate(() => {
      window.location.href = 'https://example.invalid/'
    })
    await page.waitForTimeout(500)
    expect(page.url()).toBe(before)
    const permission = await page.evaluate(() =>
      navigator.permissions.query({ name: 'notifications' as PermissionName }).then((s) => s.state),
    )
    expect(permission).not.toBe('granted')
    expect(await page.evaluate(() => window.open('https://example.invalid/'))).toBeNull()
  })

  test('the bridge exposes only the contract', async ({ app }) => {
    const keys = await app.page.evaluate(() =>
      Object.keys((window as unknown as { corral: object }).corral).sort(),
    )
    expect(keys).toContain('start')
    expect(keys).toContain('on')
    expect(keys).not.toContain('send')
    expect(keys).not.toContain('ipcRenderer')
    expect(
      await app.page.evaluate(() => typeof (window as unknown as Record<string, unknown>).require),
    ).toBe('undefined')
  })
})
