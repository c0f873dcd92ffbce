/**
 * What the terminal view needs around xterm.js: its theme from the page's colours, its
 * stylesheet under the page's Content Security Policy, the choice of renderer, and the byte
 * counts that flow control acknowledges.
 */
import type { ITheme } from '@xterm/xterm'

const ANSI_NAMES = [
  'black',
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'white',
  'brightBlack',
  'brightRed',
  'brightGreen',
  'brightYellow',
  'brightBlue',
  'brightMagenta',
  'brightCyan',
  'brightWhite',
] as const

/** The terminal's colours, read from the page's CSS variables (so light and dark both fit). */
export function terminalTheme(root: Element = document.documentElement): ITheme {
  const css = getComputedStyle(root)
  const v = (name: string, fallback: string): string =>
    css.getPropertyValue(name).trim() || fallback
  const theme: ITheme = {
    background: v('--bg-log', '#fcfcfd'),
    foreground: v('--text', '#1f2328'),
    cursor: v('--text', '#1f2328'),
    cursorAccent: v('--bg-log', '#fcfcfd'),
    selectionBackground: v('--bg-selected', '#e3ebfd'),
    selectionInactiveBackground: v('--bg-hover', '#eceef2'),
    scrollbarSliderBackground: v('--border-strong', '#cfd3da'),
    scrollbarSliderHoverBackground: v('--text-faint', '#8b919b'),
    scrollbarSliderActiveBackground: v('--text-muted', '#666c76'),
  }
  const record = theme as Record<string, string>
  ANSI_NAMES.forEach((name, i) => {
    const value = css.getPropertyValue(`--ansi-${i}`).trim()
    if (value) record[name] = value
  })
  return theme
}

/** The terminal's font, the page's monospace stack. */
export function terminalFont(root: Element = document.documentElement): string {
  return (
    getComputedStyle(root).getPropertyValue('--font-mono').trim() ||
    'ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace'
  )
}

/**
 * xterm.js styles its rows, colours, cursor and scrollbar with `<style>` elements it fills in
 * at run time. The page's Content Security Policy (`style-src 'self'`) rightly refuses inline
 * style elements, so this copies their text into constructed stylesheets, which the policy
 * allows (they are CSSOM, not markup), and keeps them in step as xterm rewrites them (theme
 * and size changes). Returns the function that stops and removes the copies.
 */
export function mirrorInlineStyles(container: HTMLElement, doc: Document = document): () => void {
  if (typeof CSSStyleSheet === 'undefined' || !('adoptedStyleSheets' in doc)) return () => {}
  const sheets = new Map<HTMLStyleElement, CSSStyleSheet>()
  const sync = (): void => {
    const present = new Set(container.querySelectorAll('style'))
    let changed = false
    for (const [el, sheet] of sheets) {
      if (!present.has(el)) {
        sheets.delete(el)
        doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet)
      }
    }
    for (const el of present) {
      let sheet = sheets.get(el)
      if (!sheet) {
        sheet = new CSSStyleSheet()
        sheets.set(el, sheet)
        changed = true
      }
      const text = el.textContent ?? ''
      if ((sheet as CSSStyleSheet & { corralText?: string }).corralText !== text) {
        sheet.replaceSync(text)
        ;(sheet as CSSStyleSheet & { corralText?: string }).corralText = text
      }
    }
    if (changed) {
      const ours = new Set(sheets.values())
      doc.adoptedStyleSheets = [
        ...doc.adoptedStyleSheets.filter((s) => !ours.has(s)),
        ...sheets.values(),
      ]
    }
  }
  sync()
  const observer = new MutationObserver(sync)
  observer.observe(container, { subtree: true, childList: true, characterData: true })
  return () => {
    observer.disconnect()
    const ours = new Set(sheets.values())
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => !ours.has(s))
    sheets.clear()
  }
}

let spanStylesPatched = false

/**
 * xterm.js's DOM renderer gives cells with 24-bit colours (and search matches) their colour
 * by `span.setAttribute('style', ...)`, which the page's policy refuses like a style attribute
 * in markup. This routes that one call, on spans, through the CSSOM (`style.cssText`), which
 * the policy allows. It opens nothing to injected markup: the policy guards style attributes
 * that arrive as HTML, and these come from the page's own script, which could set the same
 * styles property by property anyway. Installed once, when the first terminal opens.
 */
export function allowScriptedSpanStyles(): void {
  if (spanStylesPatched || typeof HTMLSpanElement === 'undefined') return
  spanStylesPatched = true
  const proto = HTMLSpanElement.prototype
  const setAttribute = proto.setAttribute
  proto.setAttribute = function (this: HTMLSpanElement, name: string, value: string): void {
    if (name.toLowerCase() === 'style') this.style.cssText = String(value)
    else setAttribute.call(this, name, value)
  }
}

/**
 * Whether to use xterm.js's WebGL renderer: only with a hardware-accelerated WebGL 2. A
 * software rasteriser (SwiftShader, llvmpipe: what a browser offers without a GPU) is slower
 * than the DOM renderer, so the DOM renderer is kept there.
 */
export function hardwareWebgl2(doc: Document = document): boolean {
  try {
    const gl = doc.createElement('canvas').getContext('webgl2')
    if (!gl) return false
    const info = gl.getExtension('WEBGL_debug_renderer_info')
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : ''
    gl.getExtension('WEBGL_lose_context')?.loseContext()
    return !/swiftshader|llvmpipe|software|basic render/i.test(renderer)
  } catch {
    // No WebGL at all (disabled, blocked, or a context could not be created): DOM renderer.
    return false
  }
}

/** Bytes of the UTF-8 encoding of `text`, without encoding it. */
export function utf8Length(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

/** Corral's own lines (started, exited) as the terminal shows them: dimmed, on a line of their own. */
export function systemLineForTerminal(text: string, atLineStart: boolean): string {
  const body = text.replace(/\n$/, '').replace(/\n/g, '\r\n')
  return `${atLineStart ? '' : '\r\n'}\x1b[0m\x1b[2m${body}\x1b[0m\r\n`
}

/** Whether `uri` is a web link the terminal may open (in a new tab, never in this page). */
export function isWebLink(uri: string): boolean {
  try {
    const url = new URL(uri)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}
