import { describe, expect, it } from 'vitest'
import {
  emptyFormValues,
  formFromSpec,
  parseGraceSeconds,
  parseSuccessCodes,
  specFromForm,
  touches,
} from './spec-form'

describe('parseSuccessCodes', () => {
  it('accepts comma- or space-separated codes, dropping duplicates', () => {
    expect(parseSuccessCodes('0, 3,4  7 3')).toEqual({ ok: true, codes: [0, 3, 4, 7] })
    expect(parseSuccessCodes('  ')).toEqual({ ok: true, codes: [] })
    expect(parseSuccessCodes('255')).toEqual({ ok: true, codes: [255] })
  })

  it('names the first bad entry', () => {
    expect(parseSuccessCodes('0, 256')).toEqual({
      ok: false,
      error: 'Success codes: "256" is not an exit code (0–255).',
    })
    expect(parseSuccessCodes('1;2')).toMatchObject({
      ok: false,
      error: expect.stringContaining('"1;2"'),
    })
    expect(parseSuccessCodes('-1')).toMatchObject({ ok: false })
    expect(parseSuccessCodes('1.5')).toMatchObject({ ok: false })
  })
})

describe('parseGraceSeconds', () => {
  it('turns seconds into whole milliseconds; empty means the default', () => {
    expect(parseGraceSeconds('')).toEqual({ ok: true, ms: undefined })
    expect(parseGraceSeconds(' 5 ')).toEqual({ ok: true, ms: 5000 })
    expect(parseGraceSeconds('0')).toEqual({ ok: true, ms: 0 })
    expect(parseGraceSeconds('0.25')).toEqual({ ok: true, ms: 250 })
    expect(parseGraceSeconds('.5')).toEqual({ ok: true, ms: 500 })
    expect(parseGraceSeconds('86400')).toEqual({ ok: true, ms: 86_400_000 })
  })

  it('rejects what is not a number of seconds within a day', () => {
    for (const bad of ['soon', '-1', '1e3', '86401', '5s', '.']) {
      expect(parseGraceSeconds(bad)).toMatchObject({ ok: false })
    }
    expect(parseGraceSeconds('soon')).toMatchObject({
      error: expect.stringContaining('Grace period'),
    })
  })
})

describe('specFromForm', () => {
  it('omits everything left at its default', () => {
    expect(specFromForm({ ...emptyFormValues(), command: 'ls' })).toEqual({
      ok: true,
      spec: { command: 'ls' },
    })
  })

  it('carries every field that was set', () => {
    const result = specFromForm({
      command: 'npm run dev',
      cwd: ' /srv/app ',
      env: 'PORT=8080\nDEBUG=',
      name: ' web ',
      shell: true,
      restart: 'on-failure',
      successCodes: '0, 3',
      stopSignal: 'SIGINT',
      graceSeconds: '2.5',
      autostart: true,
    })
    expect(result).toEqual({
      ok: true,
      spec: {
        command: 'npm run dev',
        cwd: '/srv/app',
        env: { PORT: '8080', DEBUG: null },
        name: 'web',
        shell: true,
        restart: 'on-failure',
        successCodes: [0, 3],
        stopSignal: 'SIGINT',
        stopGraceMs: 2500,
        autostart: true,
      },
    })
  })

  it('ignores success codes unless the policy is on-failure, and the default [0]', () => {
    const base = { ...emptyFormValues(), command: 'x', successCodes: 'junk' }
    expect(specFromForm({ ...base, restart: 'always' })).toEqual({
      ok: true,
      spec: { command: 'x', restart: 'always' },
    })
    expect(specFromForm({ ...base, restart: 'on-failure' })).toMatchObject({
      ok: false,
      field: 'successCodes',
    })
    expect(specFromForm({ ...base, restart: 'on-failure', successCodes: '0' })).toEqual({
      ok: true,
      spec: { command: 'x', restart: 'on-failure' },
    })
  })

  it('reports which field is wrong', () => {
    const v = { ...emptyFormValues(), command: 'x' }
    expect(specFromForm({ ...v, env: 'oops' })).toMatchObject({ ok: false, field: 'env' })
    expect(specFromForm({ ...v, graceSeconds: 'x' })).toMatchObject({
      ok: false,
      field: 'graceSeconds',
    })
  })

  it('keeps settings the form does not show through an edit', () => {
    const base = { command: 'old', minUptimeMs: 3000, maxRetries: 2 }
    expect(specFromForm({ ...formFromSpec(base), command: 'new' }, base)).toEqual({
      ok: true,
      spec: { command: 'new', minUptimeMs: 3000, maxRetries: 2 },
    })
  })
})

describe('formFromSpec', () => {
  it('round-trips a spec through the form', () => {
    const spec = {
      command: 'serve',
      cwd: '/srv',
      env: { A: '1', B: null },
      name: 'srv',
      shell: true,
      restart: 'on-failure' as const,
      successCodes: [0, 2],
      stopSignal: 'SIGQUIT' as const,
      stopGraceMs: 1500,
      autostart: true,
    }
    const values = formFromSpec(spec)
    expect(values).toMatchObject({ env: 'A=1\nB=', successCodes: '0, 2', graceSeconds: '1.5' })
    expect(specFromForm(values)).toEqual({ ok: true, spec })
  })
})

describe('touches', () => {
  it('says whether a change may fix the field in error', () => {
    expect(touches({ env: 'A=1' }, 'env')).toBe(true)
    expect(touches({ name: 'x' }, 'env')).toBe(false)
    expect(touches({ restart: 'never' }, 'successCodes')).toBe(true)
    expect(touches({ restart: 'never' }, 'graceSeconds')).toBe(false)
  })
})
