import { accessSync, constants } from 'node:fs'
import { constants as osConstants } from 'node:os'

/**
 * Perl, where Corral can use it to start children in a process group of their own within a
 * shared session (see `main/spawner.ts` and `core/forker.ts`), or null.
 */
export function findPerl(): string | null {
  for (const file of ['/usr/bin/perl', '/bin/perl']) {
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // Not here.
    }
  }
  return null
}

/** Errno names by number, to name what a child could not do before its program ran. */
export const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(osConstants.errno).map(([name, n]) => [n, name]),
)
