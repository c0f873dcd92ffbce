// `npm test`: typecheck, lint, build, unit/integration tests (vitest), end-to-end tests
// (Playwright), then one summary line: `N passed, N failed, N skipped`.
// Typecheck, lint and build count as one check each; every test case counts as one.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'corral-test-'))
const totals = { passed: 0, failed: 0, skipped: 0 }
const failures = []
// Names of failed test cases, repeated at the end: a CI log is often read from its tail.
const failedCases = []
const firstLine = (text) =>
  text
    .replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g'), '')
    .trim()
    .split('\n')[0]
    .slice(0, 300)

function run(label, cmd, args, extraEnv = {}) {
  process.stdout.write(`\n━━ ${label}: ${cmd} ${args.join(' ')}\n`)
  const started = Date.now()
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } })
  process.stdout.write(
    `━━ ${label}: ${r.status === 0 ? 'ok' : `failed (exit ${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  )
  return r.status === 0
}

function check(label, cmd, args) {
  const ok = run(label, cmd, args)
  if (ok) totals.passed++
  else {
    totals.failed++
    failures.push(label)
  }
  return ok
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'

check('typecheck', npx, ['tsc', '--noEmit', '-p', 'tsconfig.node.json'])
check('typecheck (renderer)', npx, ['tsc', '--noEmit', '-p', 'tsconfig.web.json'])
check('typecheck (end-to-end specs)', npx, ['tsc', '--noEmit', '-p', 'tsconfig.e2e.json'])
check('lint', npx, ['eslint', '--max-warnings', '0', '.'])
check('format', npx, ['prettier', '--check', '.'])
const built = check('build', npx, ['electron-vite', 'build'])

// Vitest: count test cases from its JSON report.
const vitestJson = path.join(tmp, 'vitest.json')
const vitestOk = run('unit and integration tests', npx, [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
])
if (existsSync(vitestJson)) {
  const v = JSON.parse(readFileSync(vitestJson, 'utf8'))
  totals.passed += v.numPassedTests
  totals.failed += v.numFailedTests
  totals.skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0)
  for (const file of v.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status !== 'failed') continue
      const where = path.relative(process.cwd(), file.name)
      const why = firstLine((t.failureMessages ?? []).join(' '))
      failedCases.push(`vitest › ${where} › ${t.fullName}: ${why}`)
    }
  }
  if (v.numFailedTests > 0 || !vitestOk) failures.push('vitest')
  if (!vitestOk && v.numFailedTests === 0) totals.failed++
} else {
  totals.failed++
  failures.push('vitest (no report)')
}

// Playwright: needs the build.
if (built) {
  const pwJson = path.join(tmp, 'playwright.json')
  const pwOk = run('end-to-end tests', npx, ['playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson,
  })
  if (existsSync(pwJson)) {
    const report = JSON.parse(readFileSync(pwJson, 'utf8'))
    const s = report.stats
    collectPlaywrightFailures(report.suites ?? [], [])
    totals.passed += s.expected + (s.flaky ?? 0)
    totals.failed += s.unexpected
    totals.skipped += s.skipped
    if (s.unexpected > 0 || !pwOk) failures.push('playwright')
    if (!pwOk && s.unexpected === 0) totals.failed++
  } else {
    totals.failed++
    failures.push('playwright (no report)')
  }
} else {
  failures.push('playwright (not run: build failed)')
  totals.failed++
}

if (failures.length) process.stdout.write(`\nFailed: ${failures.join(', ')}\n`)
for (const c of failedCases) process.stdout.write(`  ✗ ${c}\n`)
process.stdout.write(
  `\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
)
process.exit(totals.failed > 0 ? 1 : 0)

function collectPlaywrightFailures(suites, titles) {
  for (const suite of suites) {
    const inner = suite.title ? [...titles, suite.title] : titles
    collectPlaywrightFailures(suite.suites ?? [], inner)
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status !== 'unexpected') continue
        const last = t.results?.[t.results.length - 1]
        const why = firstLine(last?.error?.message ?? '')
        failedCases.push(
          `playwright › [${t.projectName}] ${[...inner, spec.title].join(' › ')}: ${why}`,
        )
      }
    }
  }
}
