// `npm run audit:electron`: run Electronegativity over the sources and fail on any finding
// that is not in security/electronegativity-allowlist.json with a reason. Electronegativity
// exits 0 even with findings, so this reads its CSV report instead of its exit code.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.join(import.meta.dirname, '..')
const allowFile = path.join(root, 'security/electronegativity-allowlist.json')
const electronVersion = JSON.parse(
  readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8'),
).version
const report = path.join(mkdtempSync(path.join(os.tmpdir(), 'corral-audit-')), 'findings.sarif')

const run = spawnSync(
  'npx',
  [
    '-y',
    '@doyensec/electronegativity',
    '-i',
    'src',
    '-e',
    electronVersion,
    '-r',
    '-v',
    'false',
    '-o',
    report,
  ],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
)
if (!existsSync(report)) {
  console.error(`Electronegativity did not produce a report (exit ${run.status}).\n${run.stderr}`)
  process.exit(2)
}

// SARIF, not CSV: the CSV writer does not quote samples that span lines.
const sarif = JSON.parse(readFileSync(report, 'utf8'))
const findings = sarif.runs.flatMap((r) =>
  r.results.map((res) => {
    const loc = res.locations?.[0]?.physicalLocation
    return {
      check: res.ruleId,
      file: loc?.artifactLocation?.uri ?? '?',
      line: loc?.region?.startLine ?? 0,
      message: res.message?.text ?? '',
    }
  }),
)

const allow = JSON.parse(readFileSync(allowFile, 'utf8'))
for (const a of allow) {
  if (!a.reason || a.reason.length < 20) {
    console.error(`Allowlist entry ${a.check} ${a.file} needs a reason that says why it is safe.`)
    process.exit(2)
  }
}
const allowed = (f) => allow.some((a) => a.check === f.check && a.file === f.file)
const unexpected = findings.filter((f) => !allowed(f))

for (const f of findings) {
  const mark = allowed(f) ? 'allowed' : 'FINDING'
  console.log(`${mark.padEnd(8)} ${f.check} ${f.file}:${f.line}  ${f.message}`)
}
const stale = allow.filter((a) => !findings.some((f) => f.check === a.check && f.file === a.file))
for (const a of stale)
  console.log(`note     allowlist entry no longer needed: ${a.check} ${a.file}`)
console.log(
  `\n${findings.length} findings, ${findings.length - unexpected.length} allowed, ${unexpected.length} not allowed`,
)
process.exit(unexpected.length ? 1 : 0)
