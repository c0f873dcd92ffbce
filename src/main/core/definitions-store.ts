import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { ProcessSpec } from '../../shared/contract'
import { AtomicFileWriter, removeStaleTemps } from './atomic-file'
import { processSpecSchema } from './schemas'

/** A saved process definition as stored on disk. */
export interface StoredDefinition {
  id: string
  spec: ProcessSpec
}

/** What loading the definitions file found. */
export interface LoadedDefinitions {
  definitions: StoredDefinition[]
  /** Problems to show the user; the file is never silently ignored. */
  warnings: string[]
}

const FILE_VERSION = 1

const definitionSchema = z.strictObject({
  id: z.string().regex(/^[\w-]{1,64}$/, 'ids are 1-64 letters, digits, - or _'),
  spec: processSpecSchema,
})

const fileSchema = z.object({
  version: z.literal(FILE_VERSION),
  definitions: z.array(z.unknown()),
})

/**
 * The saved definitions, one JSON file written atomically. A file that cannot be read is
 * reported with its path and the problem, and copied aside before anything overwrites it, so
 * a hand edit gone wrong is never lost.
 */
export class DefinitionStore {
  private writer: AtomicFileWriter | null = null

  constructor(readonly file: string) {}

  /** Read the definitions; never throws. */
  load(): LoadedDefinitions {
    removeStaleTemps(this.file)
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { definitions: [], warnings: [] }
      return {
        definitions: [],
        warnings: [`Could not read ${this.file}: ${(err as Error).message}`],
      }
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      return this.rejectFile(`it is not valid JSON (${(err as Error).message})`)
    }
    const parsed = fileSchema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue.path.length ? ` at "${issue.path.join('.')}"` : ''
      return this.rejectFile(
        `${issue.message}${where} (expected { "version": 1, "definitions": [...] })`,
      )
    }
    const definitions: StoredDefinition[] = []
    const warnings: string[] = []
    const seen = new Set<string>()
    parsed.data.definitions.forEach((raw, i) => {
      const def = definitionSchema.safeParse(raw)
      if (!def.success) {
        const issue = def.error.issues[0]
        warnings.push(
          `${this.file}: definition ${i + 1} was skipped: ${issue.message} at "${issue.path.join('.')}".`,
        )
      } else if (seen.has(def.data.id)) {
        warnings.push(
          `${this.file}: definition ${i + 1} was skipped: duplicate id "${def.data.id}".`,
        )
      } else {
        seen.add(def.data.id)
        definitions.push(def.data)
      }
    })
    if (warnings.length) this.keepCopy(warnings)
    return { definitions, warnings }
  }

  /**
   * Replace the file with `definitions`, atomically and durably, off the event loop; resolves
   * once they are on disk. Saves asked for while one is written collapse into one of the
   * newest definitions.
   */
  save(definitions: StoredDefinition[]): Promise<void> {
    this.writer ??= new AtomicFileWriter(this.file, () => {}, {
      dirReady: fs.promises.mkdir(path.dirname(this.file), { recursive: true }),
      durable: true,
    })
    return this.writer.writeAndWait(
      () => JSON.stringify({ version: FILE_VERSION, definitions }, null, 2) + '\n',
    )
  }

  /** Resolves once every save asked for is over. */
  settled(): Promise<void> {
    return this.writer?.settled() ?? Promise.resolve()
  }

  private rejectFile(problem: string): LoadedDefinitions {
    const warnings = [`Could not load saved processes from ${this.file}: ${problem}.`]
    this.keepCopy(warnings)
    return { definitions: [], warnings }
  }

  /** Copy the file aside before a later save replaces it, and say where. */
  private keepCopy(warnings: string[]): void {
    const copy = `${this.file}.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}`
    try {
      fs.copyFileSync(this.file, copy)
      warnings.push(`The file as it was is kept at ${copy}.`)
    } catch (err) {
      warnings.push(`Could not keep a copy of it: ${(err as Error).message}`)
    }
  }
}
