import { useEffect, useRef, useState, type KeyboardEvent } from 'react'
import { FitAddon } from '@xterm/addon-fit'
import { SearchAddon, type ISearchOptions } from '@xterm/addon-search'
import { WebLinksAddon } from '@xterm/addon-web-links'
import { WebglAddon } from '@xterm/addon-webgl'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import type { OutputChunk, ProcessId } from '../../../shared/contract'
import { getBridge } from '../bridge'
import { useApp } from '../store/app-store'
import { takeRequestedFocus } from '../lib/focus-request'
import { canWrite } from '../store/process-helpers'
import { keepTerminalWhole, TERMINAL_HISTORY_CHARS, terminalFeeds } from '../store/terminal-feeds'
import {
  allowScriptedSpanStyles,
  hardwareWebgl2,
  isWebLink,
  mirrorInlineStyles,
  systemLineForTerminal,
  terminalFont,
  terminalTheme,
  utf8Length,
} from '../store/terminal-support'

/** Lines of scrollback the emulator keeps. */
export const TERMINAL_SCROLLBACK_LINES = 10_000
/** Parsed bytes gathered before one flow-control acknowledgement goes out... */
const ACK_BATCH_BYTES = 8 * 1024
/** ...or after this long, whichever comes first. */
const ACK_DELAY_MS = 30

/** Search match colours (xterm.js wants #RRGGBB here). */
const SEARCH_DECORATIONS: ISearchOptions['decorations'] = {
  matchBackground: '#f5d76e',
  matchOverviewRuler: '#d29922',
  activeMatchBackground: '#ff9632',
  activeMatchColorOverviewRuler: '#ff9632',
}

/** Open a web link from the terminal in a new tab (never in this page). */
function openLink(event: MouseEvent, uri: string): void {
  if (!isWebLink(uri)) return
  event.preventDefault()
  // window.open is disabled on this page (lib/harden.ts); a clicked noopener anchor is the way.
  const a = document.createElement('a')
  a.href = uri
  a.target = '_blank'
  a.rel = 'noopener noreferrer'
  a.click()
}

/**
 * The live view of a process that runs in a terminal: an xterm.js emulator fed with the
 * process's raw output (replayed from the retained tail when the view opens), sending every
 * keystroke to the program, resizing the program's terminal with the panel, and acknowledging
 * parsed output so the host can apply flow control.
 */
export function TerminalView({ id }: { id: ProcessId }) {
  const hostRef = useRef<HTMLDivElement>(null)
  const termRef = useRef<Terminal | null>(null)
  const searchAddonRef = useRef<SearchAddon | null>(null)
  const searchInputRef = useRef<HTMLInputElement>(null)
  const [query, setQuery] = useState('')
  const [results, setResults] = useState<{ index: number; count: number } | null>(null)
  const focusRequested = useApp((s) => s.stdinFocusRequest?.id === id)
  const writable = useApp((s) => {
    const info = s.processes[id]
    return info ? canWrite(info) : false
  })

  useEffect(() => {
    const host = hostRef.current
    if (!host) return
    const bridge = getBridge()
    const term = new Terminal({
      scrollback: TERMINAL_SCROLLBACK_LINES,
      fontFamily: terminalFont(),
      fontSize: 13,
      lineHeight: 1.15,
      theme: terminalTheme(),
      // The search addon's match highlighting uses decorations.
      allowProposedApi: true,
      macOptionIsMeta: false,
      rightClickSelectsWord: false,
    })
    const fit = new FitAddon()
    const search = new SearchAddon()
    term.loadAddon(fit)
    term.loadAddon(search)
    term.loadAddon(new WebLinksAddon(openLink))
    allowScriptedSpanStyles()
    const stopMirroring = mirrorInlineStyles(host)
    term.open(host)
    if (hardwareWebgl2()) {
      try {
        const webgl = new WebglAddon()
        webgl.onContextLoss(() => webgl.dispose())
        term.loadAddon(webgl)
      } catch {
        // WebGL 2 went away between the check and the load: the DOM renderer carries on.
      }
    }
    termRef.current = term
    searchAddonRef.current = search

    // Size: fit the panel, and tell the program (SIGWINCH) whenever the grid changes.
    const fitNow = (): void => {
      if (host.clientWidth === 0 || host.clientHeight === 0) return // hidden: keep the size
      try {
        fit.fit()
      } catch {
        // Measuring can fail while the terminal is being torn down; the next resize refits.
      }
    }
    const sendSize = (): void => {
      bridge.resize(id, term.cols, term.rows).catch(() => {
        // The process was removed or no longer runs in a terminal: nothing to resize.
      })
    }
    const onResize = term.onResize(sendSize)
    fitNow()
    sendSize()
    let frame = 0
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(fitNow)
    })
    observer.observe(host)

    // Output: replay what is retained, then follow; acknowledge live bytes once parsed.
    let unacked = 0
    let ackTimer: number | null = null
    const sendAck = (): void => {
      if (ackTimer !== null) window.clearTimeout(ackTimer)
      ackTimer = null
      if (unacked === 0) return
      const bytes = unacked
      unacked = 0
      bridge.ack(id, bytes).catch(() => {
        // Safe to drop: the host forgives unacknowledged output after a short stall.
      })
    }
    const parsed = (bytes: number): void => {
      unacked += bytes
      if (unacked >= ACK_BATCH_BYTES) sendAck()
      else ackTimer ??= window.setTimeout(sendAck, ACK_DELAY_MS)
    }
    let atLineStart = true
    const write = (chunks: readonly OutputChunk[], live: boolean): void => {
      for (const chunk of chunks) {
        if (chunk.stream === 'system') {
          term.write(systemLineForTerminal(chunk.data, atLineStart))
          atLineStart = true
          continue
        }
        // The terminal echoes what is typed itself (a run outside one has these).
        if (chunk.data === '' || chunk.stream === 'stdin') continue
        atLineStart = chunk.data.endsWith('\n')
        if (live) {
          const bytes = utf8Length(chunk.data)
          term.write(chunk.data, () => parsed(bytes))
        } else term.write(chunk.data)
      }
    }
    const feed = terminalFeeds.get(id)
    const replay = (): void => {
      if (feed.startsMidStream) {
        term.write('\x1b[2m… earlier output is no longer kept\x1b[0m\r\n')
      }
      atLineStart = true
      write(feed.history(), false)
    }
    replay()
    const unfollow = feed.subscribe((chunks) => write(chunks, true))
    // Output the host skipped (a flood while this process was not on screen) would leave the
    // emulator in the wrong state: fetch the contiguous output again, start over and replay.
    const unreset = feed.onReset(() => {
      term.reset()
      replay()
    })
    const unwhole = keepTerminalWhole(feed, () =>
      bridge.output(id, -1, TERMINAL_HISTORY_CHARS).then((snap) => snap.chunks),
    )
    // Says a viewer is watching: from now on the host holds back output this view has not
    // parsed (and forgives it if the view goes away).
    bridge.ack(id, 0).catch(() => {})

    // Input: every keystroke, paste and terminal reply goes to the program as typed.
    const onData = term.onData((data) => {
      bridge.write(id, data).catch(() => {
        // Not running (any more): the status line says so; keystrokes have nowhere to go.
      })
    })
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== 'keydown') return true
      // Corral's own shortcuts keep working from the terminal: Alt+↑/↓ switch processes, and
      // on macOS Cmd combinations (copy, paste, Cmd+K) stay with the app and the browser.
      if (
        event.altKey &&
        !event.ctrlKey &&
        !event.metaKey &&
        (event.key === 'ArrowUp' || event.key === 'ArrowDown')
      ) {
        return false
      }
      if (event.metaKey) return false
      if (event.ctrlKey && event.shiftKey && !event.altKey) {
        if (event.code === 'KeyC') {
          const selection = term.getSelection()
          if (selection) void navigator.clipboard?.writeText(selection).catch(() => {})
          event.preventDefault()
          return false
        }
        // The browser pastes (xterm.js handles the paste event, bracketed if asked for).
        if (event.code === 'KeyV') return false
        if (event.code === 'KeyF') {
          event.preventDefault()
          searchInputRef.current?.focus()
          searchInputRef.current?.select()
          return false
        }
      }
      return true
    })
    const onResults = search.onDidChangeResults(({ resultIndex, resultCount }) =>
      setResults({ index: resultIndex, count: resultCount }),
    )

    // Colours follow the page's light or dark scheme.
    const scheme = window.matchMedia('(prefers-color-scheme: dark)')
    const onScheme = (): void => {
      term.options.theme = terminalTheme()
    }
    scheme.addEventListener('change', onScheme)

    return () => {
      scheme.removeEventListener('change', onScheme)
      observer.disconnect()
      cancelAnimationFrame(frame)
      unfollow()
      unreset()
      unwhole()
      sendAck()
      onResize.dispose()
      onData.dispose()
      onResults.dispose()
      termRef.current = null
      searchAddonRef.current = null
      term.dispose()
      stopMirroring()
    }
  }, [id])

  useEffect(() => {
    const term = termRef.current
    if (term) term.options.disableStdin = !writable
  }, [writable])

  useEffect(() => {
    // A just-started process: typing goes straight into its terminal.
    const term = termRef.current
    if (focusRequested && term) takeRequestedFocus(() => term.focus())
  }, [focusRequested])

  const find = (text: string, previous = false, incremental = false): void => {
    const search = searchAddonRef.current
    if (!search) return
    if (text === '') {
      search.clearDecorations()
      setResults(null)
      return
    }
    const options: ISearchOptions = { decorations: SEARCH_DECORATIONS, incremental }
    if (previous) search.findPrevious(text, options)
    else search.findNext(text, options)
  }

  const onSearchKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'Enter') {
      event.preventDefault()
      find(query, event.shiftKey)
    } else if (event.key === 'Escape') {
      event.preventDefault()
      setQuery('')
      find('')
      termRef.current?.focus()
    }
  }

  const countText =
    query === '' || results === null
      ? ''
      : results.count === 0
        ? 'No results'
        : results.index < 0
          ? `${results.count} found`
          : `${results.index + 1} of ${results.count}`

  return (
    <div className="terminal-view">
      <div className="terminal-toolbar" role="toolbar" aria-label="Terminal tools">
        <input
          ref={searchInputRef}
          type="text"
          className="terminal-search-input"
          aria-label="Search terminal"
          placeholder="Search terminal"
          title="Enter: next match · Shift+Enter: previous · Esc: back to the terminal (Ctrl+Shift+F from the terminal)"
          spellCheck={false}
          autoComplete="off"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value)
            find(e.target.value, false, true)
          }}
          onKeyDown={onSearchKeyDown}
        />
        <span className="terminal-search-count" role="status">
          {countText}
        </span>
        <button
          type="button"
          className="terminal-tool-button"
          aria-label="Previous match"
          title="Previous match (Shift+Enter)"
          disabled={query === ''}
          onClick={() => find(query, true)}
        >
          ↑
        </button>
        <button
          type="button"
          className="terminal-tool-button"
          aria-label="Next match"
          title="Next match (Enter)"
          disabled={query === ''}
          onClick={() => find(query)}
        >
          ↓
        </button>
        <span className="terminal-hint">
          Keys go to the program · Ctrl+Shift+C copy · Alt+↑/↓ other process
        </span>
      </div>
      <div ref={hostRef} className="terminal-host" role="region" aria-label="Terminal" />
    </div>
  )
}
