import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { AtomicFileWriter } from '../../src/main/core/atomic-file'

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'corral-atomic-'))

describe('AtomicFileWriter', () => {
  it('writes the newest content, collapsing writes asked for while one is in flight', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'state.json')
    const errors: Error[] = []
    const writer = new AtomicFileWriter(file, (err) => errors.push(err))
    let renders = 0
    for (let i = 0; i < 100; i++) {
      writer.write(() => {
        renders++
        return JSON.stringify({ i })
      })
    }
    await writer.settled()
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ i: 99 })
    // One write for the whole burst, not a hundred.
    expect(renders).toBe(1)
    // And one more write for what is asked while a write is in flight.
    writer.write(() => 'a')
    await new Promise((r) => setImmediate(r))
    writer.write(() => 'b')
    writer.write(() => 'c')
    await writer.settled()
    expect(readFileSync(file, 'utf8')).toBe('c')
    expect(errors).toEqual([])
    // No temporary file is left beside it.
    expect(readdirSync(dir)).toEqual(['state.json'])
  })

  it('waits for its directory, reports a failed write and goes on with the next', async () => {
    const dir = tmpDir()
    const errors: Error[] = []
    let makeDir!: () => void
    const dirReady = new Promise<void>((resolve) => (makeDir = resolve))
    const writer = new AtomicFileWriter(path.join(dir, 'sub', 'x.json'), (e) => errors.push(e), {
      dirReady,
    })
    writer.write(() => 'first')
    // Nothing is written before the directory is ready.
    await new Promise((r) => setTimeout(r, 20))
    expect(readdirSync(dir)).toEqual([])
    makeDir()
    await writer.settled()
    // It was never made: the failure is reported, not thrown.
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOENT'])
    const ok = new AtomicFileWriter(path.join(dir, 'y.json'), (e) => errors.push(e))
    ok.write(() => 'second')
    await ok.settled()
    expect(readFileSync(path.join(dir, 'y.json'), 'utf8')).toBe('second')
  })

  it('writes nothing more once cancelled', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'z.json')
    const writer = new AtomicFileWriter(file, () => {})
    writer.write(() => 'one')
    await writer.settled()
    writer.write(() => 'two')
    await writer.cancel()
    writer.write(() => 'three')
    await writer.settled()
    expect(readFileSync(file, 'utf8')).toBe('one')
  })

  it('tells each caller who waits when a write carrying its content is done, or why it failed', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'defs.json')
    const errors: Error[] = []
    const writer = new AtomicFileWriter(file, (e) => errors.push(e), { durable: true })
    // Asked for together: one write carries both, and both are told once it is on disk.
    const first = writer.writeAndWait(() => 'one')
    const second = writer.writeAndWait(() => 'two')
    await Promise.all([first, second])
    expect(readFileSync(file, 'utf8')).toBe('two')
    // A write that fails rejects for whoever waits for it; onError is for writes no one waits for.
    mkdirSync(path.join(dir, 'blocked.json'))
    const blocked = new AtomicFileWriter(path.join(dir, 'blocked.json'), (e) => errors.push(e))
    await expect(blocked.writeAndWait(() => 'x')).rejects.toMatchObject({ code: 'EISDIR' })
    expect(errors).toEqual([])
    // And once cancelled, nothing waits for a write that will not come.
    await blocked.cancel()
    await expect(blocked.writeAndWait(() => 'y')).rejects.toThrow('no more writes')
  })

  it('spaces a write that follows another at once, unless someone waits for it', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'groups.json')
    const read = (): string => {
      try {
        return readFileSync(file, 'utf8')
      } catch {
        return ''
      }
    }
    const until = async (want: string): Promise<number> => {
      const deadline = Date.now() + 5000
      while (read() !== want) {
        if (Date.now() > deadline) throw new Error(`never became ${want}: ${read()}`)
        await new Promise((r) => setTimeout(r, 2))
      }
      return performance.now()
    }
    const spaced = new AtomicFileWriter(file, () => {}, { spacingMs: 400 })
    let renders = 0
    const write = (v: string): void =>
      spaced.write(() => {
        renders++
        return v
      })
    // The first of a burst goes at once; what is asked while it is in flight waits 400 ms
    // after it, and everything asked meanwhile goes in that one write.
    write('a')
    await new Promise((r) => setImmediate(r))
    write('b')
    const first = await until('a')
    await new Promise((r) => setTimeout(r, 150))
    expect(read()).toBe('a')
    write('c')
    const second = await until('c')
    expect(second - first).toBeGreaterThanOrEqual(350)
    expect(renders).toBe(2)
    // Waiting for the file (a stop flushing what it must keep) cuts the wait short.
    const long = new AtomicFileWriter(file, () => {}, { spacingMs: 60_000 })
    long.write(() => 'x')
    await new Promise((r) => setImmediate(r))
    long.write(() => 'y')
    const t0 = performance.now()
    await long.settled()
    expect(read()).toBe('y')
    expect(performance.now() - t0).toBeLessThan(10_000)
  })
})
