/** Keyboard conventions: Cmd on macOS, Ctrl elsewhere. */

const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)

/** The label of the primary modifier, for titles and hints. */
export const MOD_LABEL = IS_MAC ? '⌘' : 'Ctrl'

/** Whether the platform's primary modifier (Cmd or Ctrl) is held. */
export function isModKey(event: { ctrlKey: boolean; metaKey: boolean }): boolean {
  return IS_MAC ? event.metaKey : event.ctrlKey
}
