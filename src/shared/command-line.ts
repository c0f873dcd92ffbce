/**
 * Splitting a command line into program and arguments without a shell, with the quoting
 * rules people expect from POSIX shells: single quotes are literal, double quotes allow
 * `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character.
 * No expansion of any kind happens: `$HOME`, `*` and `~` are passed through literally.
 */

/** The result of {@link splitCommandLine}. */
export type SplitResult = { ok: true; argv: string[] } | { ok: false; error: string }

/** Split `line` into words; reports an unterminated quote or trailing backslash as an error. */
export function splitCommandLine(line: string): SplitResult {
  const argv: string[] = []
  let word = ''
  let inWord = false
  let quote: "'" | '"' | null = null
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quote === "'") {
      if (ch === "'") quote = null
      else word += ch
      continue
    }
    if (quote === '"') {
      if (ch === '"') quote = null
      else if (ch === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
        i++
        if (line[i] !== '\n') word += line[i]
      } else word += ch
      continue
    }
    if (ch === "'" || ch === '"') {
      quote = ch
      inWord = true
    } else if (ch === '\\') {
      if (i + 1 >= line.length)
        return { ok: false, error: 'The command line ends with a lone backslash.' }
      i++
      // A backslash-newline is a line continuation, as in a shell.
      if (line[i] !== '\n') {
        word += line[i]
        inWord = true
      }
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) argv.push(word)
      word = ''
      inWord = false
    } else {
      word += ch
      inWord = true
    }
  }
  if (quote) {
    const kind = quote === "'" ? 'single' : 'double'
    return { ok: false, error: `The command line has an unterminated ${kind} quote.` }
  }
  if (inWord) argv.push(word)
  return { ok: true, argv }
}

/** Quote one argument so that {@link splitCommandLine} (and a POSIX shell) reads it back as is. */
export function quoteArg(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/.test(arg)) return arg
  return `'${arg.replace(/'/g, `'\\''`)}'`
}
