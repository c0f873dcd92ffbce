import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { corkForTurn } from '../../src/main/core/web-server'

let cleanup: (() => void)[] = []
afterEach(() => {
  for (const fn of cleanup) fn()
  cleanup = []
})

/** A connected pair of real TCP sockets on loopback. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const listener = net.createServer()
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve))
  const { port } = listener.address() as net.AddressInfo
  const client = net.connect(port, '127.0.0.1')
  await new Promise((resolve) => client.once('connect', resolve))
  const server = await accepted
  cleanup.push(() => {
    client.destroy()
    server.destroy()
    listener.close()
  })
  return { client, server }
}

/** Count the writes the socket hands to the system: one per `_write`, one per `_writev`. */
function countWrites(socket: net.Socket): { writes: number; pieces: number } {
  const counts = { writes: 0, pieces: 0 }
  const s = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>
  const write = s._write.bind(socket)
  const writev = s._writev.bind(socket)
  s._write = (...a) => {
    counts.writes++
    counts.pieces++
    write(...a)
  }
  s._writev = (...a) => {
    counts.writes++
    counts.pieces += (a[0] as unknown[]).length
    writev(...a)
  }
  return counts
}

describe('corkForTurn', () => {
  it('sends what a turn writes in one write at its end, and each turn on its own', async () => {
    const { client, server } = await socketPair()
    const counts = countWrites(server)
    let received = ''
    client.on('data', (d: Buffer) => (received += d.toString()))
    for (const turn of ['a', 'b']) {
      for (let i = 0; i < 5; i++) {
        corkForTurn(server)
        server.write(`${turn}${i};`)
      }
      // Nothing leaves before the turn ends.
      expect(counts.writes).toBe(turn === 'a' ? 0 : 1)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(counts).toEqual({ writes: 2, pieces: 10 })
    await expect.poll(() => received).toBe('a0;a1;a2;a3;a4;b0;b1;b2;b3;b4;')
  })
})
