import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, test } from './fixtures'

test.describe('the page has no way out of its sandbox', () => {
  test('no require, process or module; window.open gives no window handle', async ({ app }) => {
    const { page } = app
    const globals = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>
      return [typeof w.require, typeof w.process, typeof w.module, typeof w.global]
    })
    expect(globals).toEqual(['undefined', 'undefined', 'undefined', 'undefined'])
    const opened = await page.evaluate(() => window.open('https://example.invalid/', '_blank'))
    expect(opened).toBeNull()
    // Nothing the page could script was opened either.
    expect(page.context().pages()).toHaveLength(1)
  })
})

test.describe('the headless host refuses strangers', () => {
  test.skip(({ corralTarget }) => corralTarget !== 'web', 'headless host only')

  /** Try a WebSocket from inside `page`; resolves 'open' or 'refused'. */
  const tryWebSocket = (url: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(url)
      ws.onopen = () => {
        ws.close()
        resolve('open')
      }
      ws.onerror = () => resolve('refused')
    })

  test('a WebSocket without the token, or with a wrong one, is refused', async ({ app }) => {
    const { page, url } = app
    const u = new URL(url!)
    const base = `ws://${u.host}/ws`
    expect(await page.evaluate(tryWebSocket, `${base}?token=${u.searchParams.get('token')}`)).toBe(
      'open',
    )
    expect(await page.evaluate(tryWebSocket, `${base}?token=wrong`)).toBe('refused')
    // A visitor on the same origin that never had the token (no cookie either).
    const stranger = await page.context().browser()!.newContext()
    const other = await stranger.newPage()
    const res = await other.goto(`http://${u.host}/`)
    expect(res?.status()).toBe(401)
    expect(await other.evaluate(tryWebSocket, base)).toBe('refused')
    expect(await other.evaluate(tryWebSocket, `${base}?token=wrong`)).toBe('refused')
    await stranger.close()
  })

  test('a page from another origin cannot open the WebSocket, even knowing the token', async ({
    app,
  }) => {
    const { page, url } = app
    const u = new URL(url!)
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' })
      res.end('<!doctype html><title>elsewhere</title>')
    })
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r))
    try {
      const other = await page.context().newPage()
      await other.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`)
      const wsUrl = `ws://${u.host}/ws?token=${u.searchParams.get('token')}`
      expect(await other.evaluate(tryWebSocket, wsUrl)).toBe('refused')
      // The same request from Corral's own page works: the Origin made the difference.
      expect(await page.evaluate(tryWebSocket, wsUrl)).toBe('open')
      await other.close()
    } finally {
      evil.close()
    }
  })

  test('DNS rebinding: a name that resolves to the host is refused by the Host check', async ({
    app,
    playwright,
    launchOptions,
  }) => {
    const u = new URL(app.url!)
    // A browser in which evil.test resolves to 127.0.0.1, as after a rebinding attack.
    const browser = await playwright.chromium.launch({
      ...launchOptions,
      args: [...(launchOptions.args ?? []), '--host-resolver-rules=MAP evil.test 127.0.0.1'],
    })
    try {
      const page = await browser.newPage()
      const res = await page.goto(
        `http://evil.test:${u.port}/?token=${u.searchParams.get('token')}`,
      )
      expect(res?.status()).toBe(421)
      const wsUrl = `ws://evil.test:${u.port}/ws?token=${u.searchParams.get('token')}`
      expect(await page.evaluate(tryWebSocket, wsUrl)).toBe('refused')
    } finally {
      await browser.close()
    }
  })
})
