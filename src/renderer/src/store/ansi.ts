/**
 * Streaming removal of terminal escape sequences. Colour rendering comes later; until then
 * the sequences are dropped so no `[32m` garbage shows. The state is carried between chunks
 * because a program's writes (and the host's batches) can split a sequence anywhere.
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

/** Per-stream parser state; create one with {@link createAnsiState}. */
export interface AnsiState {
  mode: number
  /** Characters consumed by the current string sequence. */
  stringChars: number
}

export function createAnsiState(): AnsiState {
  return { mode: GROUND, stringChars: 0 }
}

/** Anything the slow path has to look at: ESC, C1 controls and C0 controls except \t \n \r. */
// Matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const NEEDS_WORK = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/

/** Remove escape sequences and stray control characters from `text`, keeping \t, \n and \r. */
export function stripAnsi(text: string, state: AnsiState): string {
  if (state.mode === GROUND && !NEEDS_WORK.test(text)) return text
  const out: string[] = []
  let keepFrom = -1
  const flush = (end: number): void => {
    if (keepFrom >= 0 && end > keepFrom) out.push(text.slice(keepFrom, end))
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
          else if (c === 0x9b) state.mode = CSI
          else if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
            state.mode = STRING
            state.stringChars = 0
          }
          // Any other control character is dropped.
        }
        break
      case ESC:
        if (c === 0x5b) state.mode = CSI
        else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) {
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
        if (c >= 0x40 && c <= 0x7e) state.mode = GROUND
        else if (c === 0x1b) state.mode = ESC
        else if (c < 0x20 || c > 0x3f) {
          // Not a valid CSI byte: abandon the sequence and show the character normally.
          state.mode = GROUND
          i--
        }
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
  return out.join('')
}
