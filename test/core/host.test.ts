import { afterEach, describe, expect, it } from 'vitest'
import { Host } from '../../src/main/core/host'
import { Recorder } from '../helpers'

let rec: Recorder
afterEach(async () => {
  await rec?.supervisor.shutdown()
})

describe('Host.call validation', () => {
  it.each([
    ['start', [], 'INVALID_PAYLOAD'],
    ['start', [{}], 'INVALID_PAYLOAD'],
    ['start', [{ command: 42 }], 'INVALID_PAYLOAD'],
    ['start', [{ command: 'ls', extra: true }], 'INVALID_PAYLOAD'],
    ['start', [JSON.parse('{"command":"ls","__proto__":{"polluted":1}}')], 'INVALID_PAYLOAD'],
    ['start', [{ command: 'ls', env: { 'BAD NAME': 'x' } }], 'INVALID_PAYLOAD'],
    ['start', [{ command: 'ls', env: JSON.parse('{"__proto__":"x"}') }], 'INVALID_PAYLOAD'],
    ['start', [{ command: 'ls', env: { constructor: 'x' } }], 'INVALID_PAYLOAD'],
    [{ toString: '' }, [], 'UNKNOWN_METHOD'],
    ['start', [{ command: 'x'.repeat(70_000) }], 'INVALID_PAYLOAD'],
    ['write', ['p1'], 'INVALID_PAYLOAD'],
    ['write', ['p1', 'x\n', { echo: 'no' }], 'INVALID_PAYLOAD'],
    ['write', ['p1', 'x\n', { echo: false, extra: 1 }], 'INVALID_PAYLOAD'],
    ['signal', ['p1', 'SIGSEGV'], 'INVALID_PAYLOAD'],
    ['output', ['p1', 1.5], 'INVALID_PAYLOAD'],
    ['list', 'not-an-array', 'INVALID_PAYLOAD'],
    ['constructor', [], 'UNKNOWN_METHOD'],
    ['__proto__', [], 'UNKNOWN_METHOD'],
    [42, [], 'UNKNOWN_METHOD'],
    ['stop', ['nope'], 'NO_SUCH_PROCESS'],
    ['start', [{ command: '' }], 'EMPTY_COMMAND'],
  ])('%s(%j) -> %s, nothing changes', async (method, args, code) => {
    rec = new Recorder()
    const host = new Host(rec.supervisor)
    const result = await host.call(method, args)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.error.code).toBe(code)
      expect(result.error.message.length).toBeGreaterThan(10)
    }
    expect(rec.supervisor.list()).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('a payload nested deep enough to exhaust the stack is an error, not a crash', async () => {
    rec = new Recorder()
    const host = new Host(rec.supervisor)
    let deep: unknown = 'x'
    for (let i = 0; i < 200_000; i++) deep = [deep]
    const result = await host.call('start', [deep])
    expect(result.ok).toBe(false)
    expect(await host.call('list', [])).toEqual({ ok: true, value: [] })
  })

  it('runs valid calls and returns values', async () => {
    rec = new Recorder()
    const host = new Host(rec.supervisor)
    const started = await host.call('start', [{ command: 'echo hi', name: 'greeter' }])
    expect(started).toMatchObject({ ok: true, value: { name: 'greeter' } })
    const info = await host.call('hostInfo', [])
    expect(info).toMatchObject({
      ok: true,
      value: { defaultEnv: { PYTHONUNBUFFERED: '1' }, stopGraceMs: 5000 },
    })
    const list = await host.call('list', [])
    expect(list.ok && (list.value as unknown[]).length).toBe(1)
  })
})
