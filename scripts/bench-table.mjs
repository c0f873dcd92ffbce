// Turns `npm run bench` output (JSON lines on stdin) into the Markdown table in the README.
// Usage: node bench/bench.mjs | tee bench.log && node scripts/bench-table.mjs < bench.log
import { readFileSync } from 'node:fs'

const rows = readFileSync(0, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l))
  .filter((r) => r.bench !== 'info')

const fmt = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v ?? '—'))
const cell = (text) => String(text).replace(/\|/g, '\\|')
/** A value with its p90, p99 and worst, where a figure has them. */
function withSpread(r) {
  const extra = [
    r.p90 !== undefined ? `p90 ${fmt(r.p90)}` : '',
    r.p99 !== undefined ? `p99 ${fmt(r.p99)}` : '',
    r.max !== undefined ? `max ${fmt(r.max)}` : '',
    r.worst !== undefined ? `worst of all runs ${fmt(r.worst)}` : '',
  ]
    .filter(Boolean)
    .join(', ')
  return extra ? `${fmt(r.value)} (${extra})` : fmt(r.value)
}

console.log('| | figure | this machine | baseline (same run) | ratio | target |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const r of rows) {
  if (r.error) {
    console.log(`| ${r.bench} | did not complete | ${cell(r.error.split('\n')[0])} | | | |`)
    continue
  }
  const value = withSpread(r)
  const baseline = r.baseline ? `${withSpread(r.baseline)} (${r.baseline.name})` : ''
  const cells = [r.bench, r.figure, value, baseline, fmt(r.ratio ?? ''), r.target ?? '']
  console.log(`| ${cells.map(cell).join(' | ')} |`)
}
