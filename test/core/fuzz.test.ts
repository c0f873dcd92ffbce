import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { API_METHODS } from '../../src/shared/contract'
import { Host } from '../../src/main/core/host'
import { argSchemas, isApiMethod } from '../../src/main/core/schemas'
import { Recorder } from '../helpers'

let rec: Recorder
afterEach(async () => {
  await rec?.supervisor.shutdown()
})

const ERROR_CODES = [
  'INVALID_PAYLOAD',
  'UNKNOWN_METHOD',
  'NO_SUCH_PROCESS',
  'NO_SUCH_RUN',
  'NOT_IN_BACKOFF',
]

/** Payloads built to be wrong: random values, wrong shapes, extra and poisonous keys. */
const malformedArgs = fc.oneof(
  fc.anything(),
  fc.array(fc.anything(), { maxLength: 4 }),
  fc.tuple(fc.record({ command: fc.anything() }, { requiredKeys: [] }), fc.anything()),
  fc.constant([JSON.parse('{"command":"true","__proto__":{"polluted":true}}')]),
  fc.constant([{ command: 'true', constructor: { prototype: { polluted: true } } }]),
  fc.constant([{ command: 'true', env: JSON.parse('{"__proto__":"x"}') }]),
  fc.constant(['p-x', 'y'.repeat(2 * 1024 * 1024)]),
)

describe('10,000 malformed calls', () => {
  it('are each rejected with an error; the host stays alive and its state unchanged', async () => {
    rec = new Recorder()
    const host = new Host(rec.supervisor)
    let calls = 0
    let skippedValid = 0
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...API_METHODS), fc.string(), fc.anything()),
        malformedArgs,
        async (method, args) => {
          // A random value that happens to be a valid call is not a malformed one.
          if (isApiMethod(method) && argSchemas[method].safeParse(args).success) {
            skippedValid++
            return
          }
          calls++
          const result = await host.call(method, args)
          expect(result.ok).toBe(false)
          if (!result.ok) {
            expect(ERROR_CODES).toContain(result.error.code)
            expect(typeof result.error.message).toBe('string')
          }
        },
      ),
      { numRuns: 10_000, seed: 20261122 },
    )
    expect(calls).toBeGreaterThan(9_000)
    expect(skippedValid).toBeLessThan(1_000)
    expect(rec.supervisor.list()).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // Still serving.
    expect(await host.call('list', [])).toEqual({ ok: true, value: [] })
  })
})
