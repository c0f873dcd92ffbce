/**
 * Streaming ANSI parser. SGR sequences (colours and text styles) become style changes at
 * positions of the plain text; every other escape sequence (cursor moves, erase line, OSC
 * titles and hyperlinks, ...) and stray control character is dropped so no `[2K` garbage
 * shows. The state is carried between chunks because a program's writes (and the host's
 * batches) can split a sequence anywhere.
 *
 * Styles are interned in one table shared by every buffer, so a styled run costs one small
 * integer, and rendering maps an id to CSS once.
 */

const GROUND = 0
const ESC = 1
const CSI = 2
/** Inside an OSC, DCS, SOS, PM or APC string, which runs until BEL or ST. */
const STRING = 3
/** Saw ESC inside a string: `ESC \` ends it, anything else starts a new sequence. */
const STRING_ESC = 4
/** ESC followed by intermediate bytes (`ESC ( B`, `ESC # 8`). */
const ESC_INTERMEDIATE = 5

/**
 * A string that never terminates would otherwise swallow all later output; real OSC payloads
 * (titles, hyperlinks) are far shorter than this.
 */
const MAX_STRING_CHARS = 4096
/** Parameter bytes kept for one CSI sequence; longer ones are not SGR anyone writes. */
const MAX_CSI_CHARS = 256

/** Style flags, one bit each. */
export const BOLD = 1
export const DIM = 2
export const ITALIC = 4
export const UNDERLINE = 8
export const INVERSE = 16
export const HIDDEN = 32
export const STRIKE = 64

/** A colour: {@link DEFAULT_COLOR}, a palette index 0-255, or `TRUECOLOR | 0xRRGGBB`. */
export type AnsiColor = number
export const DEFAULT_COLOR = -1
export const TRUECOLOR = 0x1000000

/** Id of the plain style (default colours, no flags). */
export const PLAIN_STYLE = 0

/** Per-stream parser state; create one with {@link createAnsiState}. */
export interface AnsiState {
  mode: number
  /** Characters consumed by the current string sequence. */
  stringChars: number
  /** Parameter and intermediate bytes of the current CSI sequence. */
  csi: string
  fg: AnsiColor
  bg: AnsiColor
  flags: number
  /** Interned id of (fg, bg, flags). */
  style: number
}

export function createAnsiState(): AnsiState {
  return {
    mode: GROUND,
    stringChars: 0,
    csi: '',
    fg: DEFAULT_COLOR,
    bg: DEFAULT_COLOR,
    flags: 0,
    style: PLAIN_STYLE,
  }
}

// ---------------------------------------------------------------- style table

/** Distinct styles kept before new truecolour styles are approximated by the 256 palette. */
const MAX_STYLES = 65_536

const styleFg: number[] = [DEFAULT_COLOR]
const styleBg: number[] = [DEFAULT_COLOR]
const styleFlags: number[] = [0]
const styleIds = new Map<string, number>([[`${DEFAULT_COLOR}|${DEFAULT_COLOR}|0`, 0]])

/** The interned id of a style. */
export function internStyle(fg: AnsiColor, bg: AnsiColor, flags: number): number {
  const key = `${fg}|${bg}|${flags}`
  let id = styleIds.get(key)
  if (id !== undefined) return id
  if (styleFg.length >= MAX_STYLES) {
    // A gradient-heavy program could otherwise grow the table without bound.
    const afg = approximate(fg)
    const abg = approximate(bg)
    return afg === fg && abg === bg
      ? (styleIds.get(`${fg}|${DEFAULT_COLOR}|${flags}`) ?? PLAIN_STYLE)
      : internStyle(afg, abg, flags)
  }
  id = styleFg.length
  styleFg.push(fg)
  styleBg.push(bg)
  styleFlags.push(flags)
  styleIds.set(key, id)
  return id
}

/** Foreground, background and flags of an interned style. */
export function styleOf(id: number): { fg: AnsiColor; bg: AnsiColor; flags: number } {
  return {
    fg: styleFg[id] ?? DEFAULT_COLOR,
    bg: styleBg[id] ?? DEFAULT_COLOR,
    flags: styleFlags[id] ?? 0,
  }
}

function approximate(color: AnsiColor): AnsiColor {
  if (color < TRUECOLOR) return color
  const r = (color >> 16) & 0xff
  const g = (color >> 8) & 0xff
  const b = color & 0xff
  const level = (v: number): number =>
    v < 48 ? 0 : v < 115 ? 1 : Math.min(5, Math.floor((v - 35) / 40))
  return 16 + 36 * level(r) + 6 * level(g) + level(b)
}

const CUBE_LEVELS = [0, 95, 135, 175, 215, 255]

/** `#rrggbb` of a 256-palette index from 16 up, or of a truecolour value. */
export function colorHex(color: AnsiColor): string {
  let rgb: number
  if (color >= TRUECOLOR) rgb = color & 0xffffff
  else if (color >= 232) {
    const v = 8 + (color - 232) * 10
    rgb = (v << 16) | (v << 8) | v
  } else {
    const i = color - 16
    rgb =
      (CUBE_LEVELS[Math.floor(i / 36) % 6] << 16) |
      (CUBE_LEVELS[Math.floor(i / 6) % 6] << 8) |
      CUBE_LEVELS[i % 6]
  }
  return `#${rgb.toString(16).padStart(6, '0')}`
}

// ---------------------------------------------------------------- parsing

/** Plain text plus where the style changes: `[position, styleId, position, styleId, ...]`. */
export interface ParsedText {
  text: string
  /** Null when the style never changed in this piece (the common case). */
  changes: number[] | null
}

/** Anything the slow path has to look at: ESC, C1 controls and C0 controls except \t \n \r. */
// Matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const NEEDS_WORK = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/

/**
 * Parse a piece of one stream: remove escape sequences and stray control characters (keeping
 * \t, \n and \r) and report SGR style changes at their positions in the returned text.
 */
export function parseAnsi(text: string, state: AnsiState): ParsedText {
  if (state.mode === GROUND && !NEEDS_WORK.test(text)) return { text, changes: null }
  const out: string[] = []
  let outLen = 0
  let changes: number[] | null = null
  let keepFrom = -1
  const flush = (end: number): void => {
    if (keepFrom >= 0 && end > keepFrom) {
      out.push(text.slice(keepFrom, end))
      outLen += end - keepFrom
    }
    keepFrom = -1
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    switch (state.mode) {
      case GROUND:
        if (c >= 0x20 && c !== 0x7f && (c < 0x80 || c > 0x9f)) {
          if (keepFrom < 0) keepFrom = i
        } else if (c === 0x09 || c === 0x0a || c === 0x0d) {
          if (keepFrom < 0) keepFrom = i
        } else {
          flush(i)
          if (c === 0x1b) state.mode = ESC
          else if (c === 0x9b) {
            state.mode = CSI
            state.csi = ''
          } else if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
            state.mode = STRING
            state.stringChars = 0
          }
          // Any other control character is dropped.
        }
        break
      case ESC:
        if (c === 0x5b) {
          state.mode = CSI
          state.csi = ''
        } else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) {
          state.mode = STRING
          state.stringChars = 0
        } else if (c >= 0x20 && c <= 0x2f) state.mode = ESC_INTERMEDIATE
        else if (c >= 0x30 && c <= 0x7e) state.mode = GROUND
        else if (c !== 0x1b) {
          state.mode = GROUND
          i--
        }
        break
      case CSI:
        if (c >= 0x40 && c <= 0x7e) {
          state.mode = GROUND
          if (c === 0x6d && applySgr(state)) {
            changes ??= []
            const n = changes.length
            // Two changes at one position: the later one wins.
            if (n > 0 && changes[n - 2] === outLen) changes[n - 1] = state.style
            else changes.push(outLen, state.style)
          }
          state.csi = ''
        } else if (c === 0x1b) state.mode = ESC
        else if (c < 0x20 || c > 0x3f) {
          // Not a valid CSI byte: abandon the sequence and show the character normally.
          state.mode = GROUND
          state.csi = ''
          i--
        } else if (state.csi.length < MAX_CSI_CHARS) state.csi += text[i]
        break
      case STRING:
        if (c === 0x07 || c === 0x9c) state.mode = GROUND
        else if (c === 0x1b) state.mode = STRING_ESC
        else if (++state.stringChars > MAX_STRING_CHARS) state.mode = GROUND
        break
      case STRING_ESC:
        if (c === 0x5c) state.mode = GROUND
        else {
          state.mode = ESC
          i--
        }
        break
      case ESC_INTERMEDIATE:
        if (c >= 0x30 && c <= 0x7e) state.mode = GROUND
        else if (c < 0x20 || c > 0x2f) {
          state.mode = GROUND
          i--
        }
        break
    }
  }
  flush(text.length)
  return { text: out.length === 1 ? out[0] : out.join(''), changes }
}

/** Remove escape sequences and stray control characters from `text`, keeping \t, \n and \r. */
export function stripAnsi(text: string, state: AnsiState): string {
  return parseAnsi(text, state).text
}

/** Strip a whole piece of text that does not continue an earlier one. */
export function stripAnsiText(text: string): string {
  return parseAnsi(text, createAnsiState()).text
}

/**
 * Apply the SGR sequence in `state.csi` to the state's style. Returns whether the style id
 * changed. Private sequences (`CSI ? ... m`, `CSI > ... m`) are not SGR and are ignored.
 */
function applySgr(state: AnsiState): boolean {
  const raw = state.csi
  if (raw.length > 0) {
    const first = raw.charCodeAt(0)
    if (first >= 0x3c && first <= 0x3f) return false
    // Intermediate bytes make it some other sequence.
    for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) < 0x30) return false
  }
  const params = raw.length === 0 ? [''] : raw.split(';')
  let { fg, bg, flags } = state
  for (let i = 0; i < params.length; i++) {
    const param = params[i]
    const colon = param.indexOf(':')
    if (colon >= 0) {
      // ITU T.416 form: `38:2::r:g:b`, `38:2:r:g:b`, `38:5:n`, `4:3` (curly underline).
      const sub = param.split(':').map((s) => (s === '' ? -1 : Number(s)))
      const code = sub[0]
      if (code === 38 || code === 48 || code === 58) {
        let color: AnsiColor | null = null
        if (sub[1] === 5 && sub.length >= 3) color = paletteColor(sub[2])
        else if (sub[1] === 2 && sub.length >= 5) {
          const rgb = sub.length >= 6 ? sub.slice(3, 6) : sub.slice(2, 5)
          color = rgbColor(rgb[0], rgb[1], rgb[2])
        }
        if (color !== null && code === 38) fg = color
        else if (color !== null && code === 48) bg = color
      } else if (code === 4) {
        flags = sub[1] === 0 ? flags & ~UNDERLINE : flags | UNDERLINE
      }
      continue
    }
    const code = param === '' ? 0 : Number(param)
    if (code === 38 || code === 48) {
      // Semicolon form: `38;5;n` or `38;2;r;g;b`.
      let color: AnsiColor | null = null
      const kind = Number(params[i + 1])
      if (kind === 5) {
        color = paletteColor(Number(params[i + 2]))
        i += 2
      } else if (kind === 2) {
        color = rgbColor(Number(params[i + 2]), Number(params[i + 3]), Number(params[i + 4]))
        i += 4
      } else i += 1
      if (color !== null) {
        if (code === 38) fg = color
        else bg = color
      }
      continue
    }
    if (code === 0) {
      fg = DEFAULT_COLOR
      bg = DEFAULT_COLOR
      flags = 0
    } else if (code === 1) flags |= BOLD
    else if (code === 2) flags |= DIM
    else if (code === 3) flags |= ITALIC
    else if (code === 4 || code === 21) flags |= UNDERLINE
    else if (code === 7) flags |= INVERSE
    else if (code === 8) flags |= HIDDEN
    else if (code === 9) flags |= STRIKE
    else if (code === 22) flags &= ~(BOLD | DIM)
    else if (code === 23) flags &= ~ITALIC
    else if (code === 24) flags &= ~UNDERLINE
    else if (code === 27) flags &= ~INVERSE
    else if (code === 28) flags &= ~HIDDEN
    else if (code === 29) flags &= ~STRIKE
    else if (code >= 30 && code <= 37) fg = code - 30
    else if (code === 39) fg = DEFAULT_COLOR
    else if (code >= 40 && code <= 47) bg = code - 40
    else if (code === 49) bg = DEFAULT_COLOR
    else if (code >= 90 && code <= 97) fg = code - 90 + 8
    else if (code >= 100 && code <= 107) bg = code - 100 + 8
    // Blink, fonts, overline and the rest have no rendering here.
  }
  if (fg === state.fg && bg === state.bg && flags === state.flags) return false
  state.fg = fg
  state.bg = bg
  state.flags = flags
  const before = state.style
  state.style = internStyle(fg, bg, flags)
  return state.style !== before
}

function paletteColor(n: number): AnsiColor | null {
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : null
}

function rgbColor(r: number, g: number, b: number): AnsiColor | null {
  const ok = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 255
  if (!ok(r) || !ok(g) || !ok(b)) return null
  return TRUECOLOR | (r << 16) | (g << 8) | b
}

/** The SGR sequence that switches from the plain style to `id` (for exports with ANSI). */
export function sgrFor(id: number): string {
  if (id === PLAIN_STYLE) return '\x1b[0m'
  const { fg, bg, flags } = styleOf(id)
  const codes: (number | string)[] = [0]
  if (flags & BOLD) codes.push(1)
  if (flags & DIM) codes.push(2)
  if (flags & ITALIC) codes.push(3)
  if (flags & UNDERLINE) codes.push(4)
  if (flags & INVERSE) codes.push(7)
  if (flags & HIDDEN) codes.push(8)
  if (flags & STRIKE) codes.push(9)
  const color = (c: AnsiColor, base: number): string | number => {
    if (c < 8) return base + c
    if (c < 16) return base + 60 + c - 8
    if (c < TRUECOLOR) return `${base + 8};5;${c}`
    return `${base + 8};2;${(c >> 16) & 0xff};${(c >> 8) & 0xff};${c & 0xff}`
  }
  if (fg !== DEFAULT_COLOR) codes.push(color(fg, 30))
  if (bg !== DEFAULT_COLOR) codes.push(color(bg, 40))
  return `\x1b[${codes.join(';')}m`
}
