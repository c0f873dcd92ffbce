import { MOD_LABEL } from '../lib/keys'

const EXAMPLES = [
  { command: 'python3 -i', what: 'an interactive interpreter — type into it below' },
  { command: 'ping -c 3 127.0.0.1', what: 'a short command that ends by itself' },
  { command: 'npm run dev', what: 'a dev server (set its working directory first)' },
]

/** What the main area shows before any process exists. */
export function EmptyState() {
  return (
    <div className="empty-state">
      <h1>Nothing running yet</h1>
      <p>
        Type a command in <strong>New process</strong> and press <kbd>Enter</kbd>. Its output
        streams here, and you can type into its standard input.
      </p>
      <ul className="examples" aria-label="Examples">
        {EXAMPLES.map((ex) => (
          <li key={ex.command}>
            <code className="example">{ex.command}</code>
            <span>{ex.what}</span>
          </li>
        ))}
      </ul>
      <p className="hint">
        <kbd>{MOD_LABEL}</kbd>+<kbd>K</kbd> focuses the command box · <kbd>Alt</kbd>+<kbd>↑</kbd>/
        <kbd>↓</kbd> moves between processes · tick <em>Run in shell</em> for pipes and{' '}
        <code>$VARS</code>
      </p>
    </div>
  )
}
