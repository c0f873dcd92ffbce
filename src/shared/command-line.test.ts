import { describe, expect, it } from 'vitest'
import { quoteArg, splitCommandLine } from './command-line'
import { formatEnvLines, parseEnvLines } from './env-lines'
import { describeExit, formatDuration, oneLineCommand } from './describe'

describe('splitCommandLine', () => {
  it.each([
    ['ls -la /tmp', ['ls', '-la', '/tmp']],
    ['  spaced   out  ', ['spaced', 'out']],
    [`echo 'single $HOME "q"'`, ['echo', 'single $HOME "q"']],
    [`echo "double \\"esc\\" \\\\ \\$x"`, ['echo', 'double "esc" \\ $x']],
    [`echo "keep \\n"`, ['echo', 'keep \\n']],
    ['a\\ b c', ['a b', 'c']],
    [`x''`, ['x']],
    [`'' ""`, ['', '']],
    [`python3 -c "import sys;print('hi')"`, ['python3', '-c', "import sys;print('hi')"]],
    ['a \\\n b', ['a', 'b']],
    ['', []],
  ])('%j', (line, argv) => {
    expect(splitCommandLine(line)).toEqual({ ok: true, argv })
  })

  it.each([
    [`echo 'open`, 'The command line has an unterminated single quote.'],
    [`echo "open`, 'The command line has an unterminated double quote.'],
    ['echo \\', 'The command line ends with a lone backslash.'],
  ])('rejects %j', (line, error) => {
    expect(splitCommandLine(line)).toEqual({ ok: false, error })
  })

  it('quoteArg round-trips through splitCommandLine', () => {
    const args = ['plain', 'with space', "it's", '$HOME', '', 'a"b', 'tab\there']
    expect(splitCommandLine(args.map(quoteArg).join(' '))).toEqual({ ok: true, argv: args })
  })
})

describe('parseEnvLines', () => {
  it('sets, unsets, ignores blanks and comments, keeps = in values', () => {
    expect(parseEnvLines('A=1\n\n# note\nB=\n C = x \nURL=a=b')).toEqual({
      ok: true,
      env: { A: '1', B: null, C: ' x ', URL: 'a=b' },
    })
  })
  it('names the bad line', () => {
    expect(parseEnvLines('A=1\nnonsense')).toEqual({
      ok: false,
      error: 'Environment line 2: expected KEY=VALUE, got "nonsense".',
    })
    expect(parseEnvLines('1X=2')).toEqual({
      ok: false,
      error: 'Environment line 1: "1X" is not a valid variable name.',
    })
  })
  it('formats back', () => {
    expect(formatEnvLines({ A: '1', B: null })).toBe('A=1\nB=')
  })
})

describe('describe', () => {
  it('formats exits and durations', () => {
    expect(describeExit({ kind: 'code', code: 3 })).toBe('exited with code 3')
    expect(describeExit({ kind: 'signal', signal: 'SIGTERM', afterGrace: false })).toBe(
      'killed by SIGTERM',
    )
    expect(describeExit({ kind: 'failed', code: 'ENOENT', reason: 'program not found: x' })).toBe(
      'failed: program not found: x',
    )
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(12_345)).toBe('12.3 s')
    expect(formatDuration(245_000)).toBe('4 min 05 s')
    expect(formatDuration(7_380_000)).toBe('2 h 03 min')
  })
})

describe('oneLineCommand', () => {
  it.each([
    ['npm run dev', 'npm run dev'],
    ['  spaced  ', '  spaced  '],
    ['echo one\n', 'echo one'],
    ['\n  echo one\n\n', 'echo one'],
    ['for i in 1 2; do\n  echo $i\ndone', 'for i in 1 2; do … (+2 lines)'],
    ['set -e\r\nmake', 'set -e … (+1 line)'],
  ])('%j', (command, line) => {
    expect(oneLineCommand(command)).toBe(line)
  })
})
