import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Every test's temporary files (data dirs, run logs of floods, fixtures) go under one folder
 * that is removed when the run ends, so repeated runs do not fill the disk.
 */
export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'corral-tests-'))
  process.env.TMPDIR = root
  return () => rmSync(root, { recursive: true, force: true })
}
