import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { RunStore, UNSEEN_END_LINE } from '../../src/main/core/run-store'
import { sleep } from '../helpers'

describe('a run left open by a Corral that was killed', () => {
  it('reads back everything its child wrote to the spool files, then says its end was not seen', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'corral-recover-'))
    const first = new RunStore({ root })
    const log = first.startRun('p', 1, 'user', Date.now())
    log.spooled()
    await log.ready
    const spool = log.spoolFiles
    // What Corral read and recorded before it was killed (8 bytes of stdout, 4 of stderr)...
    log.append('system', 0, 1, [Buffer.from('▶ started\n')])
    writeFileSync(spool.stdout, 'line 1!\n')
    writeFileSync(spool.stderr, 'oops')
    log.append('stdout', 1, 2, [], 8)
    log.append('stderr', 2, 3, [], 4)
    await first.settled()
    // ...a record it was writing when it died, cut short...
    appendFileSync(log.file, Buffer.alloc(10, 7))
    // ...and what the child wrote after that: more than one record's worth (1 MiB) of
    // two-byte characters, so that a cut between records lands inside one.
    const tail = 'x' + 'é'.repeat(600_000) + '\nlast line\n'
    appendFileSync(spool.stdout, tail)
    appendFileSync(spool.stderr, ' and more\n')

    const next = new RunStore({ root })
    const [run] = next.list('p')
    expect(run.endReason).toBe('host-exit')
    expect(run.endedAt).not.toBeNull()
    const out = await next.read('p', run.runId)
    const text = (stream: string): string =>
      out.chunks
        .filter((c) => c.stream === stream)
        .map((c) => c.data)
        .join('')
    expect(text('stdout')).toBe('line 1!\n' + tail)
    expect(text('stderr')).toBe('oops and more\n')
    // Each record reads back on its own (as a view loads a range): none was cut inside a
    // character.
    const stdoutSeqs = out.chunks.filter((c) => c.stream === 'stdout').map((c) => c.seq)
    expect(stdoutSeqs.length).toBeGreaterThan(2)
    for (const seq of stdoutSeqs) {
      const alone = await next.read('p', run.runId, { afterSeq: seq - 1, beforeSeq: seq + 1 })
      expect(alone.chunks).toHaveLength(1)
      expect(alone.chunks[0].data).not.toContain('\ufffd')
    }
    expect(out.chunks.at(-1)).toMatchObject({ stream: 'system', data: UNSEEN_END_LINE })
    const seqs = out.chunks.map((c) => c.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(seqs).size).toBe(seqs.length)
    // The run's size counts what was recovered, in memory and in the index on disk.
    await next.settled()
    const bytes = Buffer.byteLength('line 1!\n' + tail) + Buffer.byteLength('oops and more\n')
    expect(next.list('p')[0].bytes).toBe(bytes)
    expect(new RunStore({ root }).list('p')[0].bytes).toBe(bytes)
  })

  it('adds only the line to a run whose output was all recorded, once', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'corral-recover-'))
    const first = new RunStore({ root })
    const log = first.startRun('p', 1, 'user', Date.now())
    log.append('stdout', 0, 1, [Buffer.from('all of it\n')])
    await first.settled()
    const next = new RunStore({ root })
    const out = await next.read('p', next.list('p')[0].runId)
    expect(out.chunks.map((c) => c.data)).toEqual(['all of it\n', UNSEEN_END_LINE])
    await next.settled()
    // A later life finds the run closed: nothing is added again.
    const later = new RunStore({ root })
    const again = await later.read('p', later.list('p')[0].runId)
    expect(again.chunks.map((c) => c.data)).toEqual(['all of it\n', UNSEEN_END_LINE])
  })
})

describe("deleting a process's runs", () => {
  /** Until `root` holds exactly `names`, or fail after a few seconds. */
  async function untilListed(root: string, names: string[]): Promise<void> {
    const deadline = Date.now() + 5000
    while (JSON.stringify(readdirSync(root).sort()) !== JSON.stringify(names)) {
      if (Date.now() > deadline) expect(readdirSync(root).sort()).toEqual(names)
      await sleep(10)
    }
  }

  it('moves the directory aside at once and deletes it off the event loop', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'corral-delete-'))
    const store = new RunStore({ root })
    store.startRun('p', 1, 'user', Date.now()).append('stdout', 0, 1, [Buffer.from('x\n')])
    store.startRun('q', 1, 'user', Date.now())
    await store.settled()
    store.deleteProcess('p')
    // Gone from where it was, and not deleted yet: that happens in a later turn.
    expect(store.list('p')).toEqual([])
    expect(readdirSync(root).sort()).toEqual([expect.stringMatching(/^\.deleted-p-/), 'q'])
    await untilListed(root, ['q'])
  })

  it('deletes a directory left half-deleted by an earlier life at the next start', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'corral-delete-'))
    mkdirSync(path.join(root, '.deleted-p-12345'))
    writeFileSync(path.join(root, '.deleted-p-12345', 'r.log'), 'left behind')
    mkdirSync(path.join(root, 'q'))
    new RunStore({ root })
    await untilListed(root, ['q'])
  })
})
