/**
 * The "Environment" field: one `KEY=VALUE` per line sets a variable, `KEY=` unsets it.
 * Blank lines and lines starting with `#` are ignored.
 */

/** The result of {@link parseEnvLines}. */
export type EnvParseResult =
  { ok: true; env: Record<string, string | null> } | { ok: false; error: string }

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Whether `name` is a portable environment variable name. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name)
}

/** Parse the text of the Environment field; the first bad line is reported by number. */
export function parseEnvLines(text: string): EnvParseResult {
  const env: Record<string, string | null> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) {
      return { ok: false, error: `Environment line ${i + 1}: expected KEY=VALUE, got "${line}".` }
    }
    const key = line.slice(0, eq).trim()
    if (!isEnvName(key)) {
      return {
        ok: false,
        error: `Environment line ${i + 1}: "${key}" is not a valid variable name.`,
      }
    }
    const value = lines[i].slice(lines[i].indexOf('=') + 1)
    env[key] = value === '' ? null : value
  }
  return { ok: true, env }
}

/** Render an env map back into Environment-field text. */
export function formatEnvLines(env: Record<string, string | null> | undefined): string {
  if (!env) return ''
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join('\n')
}
