/**
 * Text in every face the UI can use (monospace and UI font; regular, italic, semibold and
 * bold) with the symbols it shows (state marks, arrows, ellipses, dashes).
 */
const FACES: readonly (readonly [family: string, weight: number, style: string])[] = [
  'var(--font-mono)',
  'var(--font-ui)',
].flatMap((family) =>
  (
    [
      [400, 'normal'],
      [400, 'italic'],
      [500, 'normal'],
      [600, 'normal'],
      [700, 'normal'],
    ] as const
  ).map(([weight, style]) => [family, weight, style] as const),
)
const SAMPLE = 'Ag0 ▶ ■ ⚠ ✖ ↻ ↑ ↓ → › — – … ·'

/**
 * Work the first view of a process would otherwise do in the frame that shows it (right
 * after Run, while the process it started wants the CPU too), done once while the page is
 * idle after it loads:
 * - the first time of day the page formats ("running since 14:03:07") costs about 18 ms
 *   while ICU loads its locale data;
 * - the first use of a font face costs the layout that makes it a match in the system's font
 *   list and a load of the font file: about 20 ms of the first view's layout, most of it the
 *   output's monospace faces, which the page before the first Run shows little of.
 * Marks the page's timeline with {@link WARM_UP_MARK} (its duration), as DevTools shows it.
 */
export function warmUpFirstView(): void {
  const start = performance.now()
  new Date(0).toLocaleTimeString()
  const probe = document.createElement('div')
  probe.setAttribute('aria-hidden', 'true')
  // Laid out (which loads the faces) but never painted, and never in anyone's way.
  probe.style.cssText =
    'position:fixed;left:-10000px;top:0;visibility:hidden;pointer-events:none;white-space:pre'
  for (const [family, weight, style] of FACES) {
    const span = document.createElement('span')
    span.style.fontFamily = family
    span.style.fontWeight = String(weight)
    span.style.fontStyle = style
    span.textContent = SAMPLE
    probe.append(span)
  }
  document.body.append(probe)
  void probe.offsetWidth
  probe.remove()
  performance.measure(WARM_UP_MARK, { start })
}

/** The name of the page's performance entry for the warm-up. */
export const WARM_UP_MARK = 'corral: warm-up of the first view'
