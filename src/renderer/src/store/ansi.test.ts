import { describe, expect, it } from 'vitest'
import {
  BOLD,
  DEFAULT_COLOR,
  DIM,
  INVERSE,
  ITALIC,
  STRIKE,
  TRUECOLOR,
  UNDERLINE,
  colorHex,
  createAnsiState,
  parseAnsi,
  sgrFor,
  styleOf,
  type AnsiState,
} from './ansi'

/** The text with every styled stretch as `<fg/bg/flags:text>` for readable assertions. */
function render(parts: string[], state: AnsiState = createAnsiState()): string {
  let style = state.style
  let out = ''
  for (const part of parts) {
    const { text, changes } = parseAnsi(part, state)
    const cuts = changes ?? []
    let at = 0
    const emit = (end: number): void => {
      if (end <= at) return
      const s = styleOf(style)
      const slice = text.slice(at, end)
      out +=
        s.fg === DEFAULT_COLOR && s.bg === DEFAULT_COLOR && s.flags === 0
          ? slice
          : `<${s.fg}/${s.bg}/${s.flags}:${slice}>`
      at = end
    }
    for (let i = 0; i < cuts.length; i += 2) {
      emit(cuts[i])
      style = cuts[i + 1]
    }
    emit(text.length)
  }
  return out
}

describe('parseAnsi colours', () => {
  it('renders the 16 colours, foreground and background, normal and bright', () => {
    expect(
      render([
        '\x1b[31mred\x1b[0m \x1b[42mon green\x1b[49m \x1b[93mbright\x1b[39m \x1b[104mbg\x1b[0m',
      ]),
    ).toBe('<1/-1/0:red> <-1/2/0:on green> <11/-1/0:bright> <-1/12/0:bg>')
  })

  it('renders 256-colour and truecolour in both the ; and the : forms', () => {
    const rgb = TRUECOLOR | (255 << 16) | (105 << 8) | 180
    expect(render(['\x1b[38;5;208ma\x1b[48;2;255;105;180mb\x1b[0m'])).toBe(
      `<208/-1/0:a><208/${rgb}/0:b>`,
    )
    expect(render(['\x1b[38:2::255:105:180mc\x1b[38:5:33md\x1b[m'])).toBe(
      `<${rgb}/-1/0:c><33/-1/0:d>`,
    )
  })

  it('tracks bold, dim, italic, underline, inverse and strike with their resets', () => {
    expect(render(['\x1b[1;3mbi\x1b[22mi\x1b[23;4mu\x1b[24;7mv\x1b[27;2;9mds\x1b[0mplain'])).toBe(
      `<-1/-1/${BOLD | ITALIC}:bi><-1/-1/${ITALIC}:i><-1/-1/${UNDERLINE}:u><-1/-1/${INVERSE}:v><-1/-1/${DIM | STRIKE}:ds>plain`,
    )
  })

  it('treats an empty SGR as a reset and keeps unchanged styles as one run', () => {
    expect(render(['\x1b[31ma\x1b[31mb\x1b[mc'])).toBe('<1/-1/0:ab>c')
  })

  it('parses sequences split anywhere across chunks', () => {
    expect(render(['x \x1b', '[', '38;5', ';1', '0', '0mgreenish\x1b[', '0', 'm done'])).toBe(
      'x <100/-1/0:greenish> done',
    )
  })

  it('keeps the style from one chunk to the next', () => {
    const state = createAnsiState()
    expect(render(['\x1b[32mstill '], state)).toBe('<2/-1/0:still >')
    expect(render(['green\x1b[0m'], state)).toBe('<2/-1/0:green>')
  })
})

describe('parseAnsi stripping', () => {
  it('strips cursor moves, erase line, private modes and OSC titles and hyperlinks', () => {
    const fixture =
      '\x1b[2K\x1b[1G\x1b[?25lA\x1b[3AB\x1b[K\x1b]0;title\x07C\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\x1b(B\x1b7D\x1b8\x07\x08'
    expect(render([fixture])).toBe('ABClinkD')
  })

  it('ignores CSI sequences ending in m that are not SGR', () => {
    expect(render(['\x1b[>4;2ma\x1b[?1mb'])).toBe('ab')
  })

  it('keeps tabs, newlines and carriage returns', () => {
    expect(parseAnsi('a\tb\r\nc\rd', createAnsiState()).text).toBe('a\tb\r\nc\rd')
  })

  it('returns the same string and no changes for plain text (the fast path)', () => {
    const text = 'plain text\n'
    const parsed = parseAnsi(text, createAnsiState())
    expect(parsed.text).toBe(text)
    expect(parsed.changes).toBeNull()
  })
})

describe('colours and SGR output', () => {
  it('maps the 256 palette and truecolour to hex', () => {
    expect(colorHex(196)).toBe('#ff0000')
    expect(colorHex(232)).toBe('#080808')
    expect(colorHex(TRUECOLOR | 0x123456)).toBe('#123456')
  })

  it('writes an SGR sequence that parses back to the same style', () => {
    const state = createAnsiState()
    parseAnsi('\x1b[1;4;38;2;1;2;3;48;5;200;7m', state)
    const again = createAnsiState()
    parseAnsi(sgrFor(state.style), again)
    expect(again.style).toBe(state.style)
  })
})
