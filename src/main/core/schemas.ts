import { z } from 'zod'
import {
  API_METHODS,
  RESTART_POLICIES,
  STOP_SIGNALS,
  TERMINAL_SIZE_LIMITS,
  USER_SIGNALS,
  type ApiMethod,
} from '../../shared/contract'

/** Longest accepted command line, in characters. */
export const MAX_COMMAND_CHARS = 64 * 1024
/** Largest single stdin write, in characters. */
export const MAX_WRITE_CHARS = 1024 * 1024
/** Most environment entries in one spec. */
export const MAX_ENV_ENTRIES = 1000

/** Most output one runOutput call may return, in bytes. */
export const MAX_READ_BYTES = 256 * 1024 * 1024

/** Largest number of bytes one flow-control acknowledgement may report. */
export const MAX_ACK_BYTES = 1024 * 1024 * 1024

/** Longest accepted duration setting (one day). */
const MAX_DURATION_MS = 24 * 60 * 60 * 1000

const id = z.string().min(1).max(64)

const envName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _')
  // Names that would reach an object's prototype when used as keys.
  .refine((n) => !['__proto__', 'constructor', 'prototype'].includes(n), 'reserved name')

/** A {@link ProcessSpec} as accepted over a transport: exact keys, bounded sizes. */
export const processSpecSchema = z.strictObject({
  command: z.string().max(MAX_COMMAND_CHARS),
  shell: z.boolean().optional(),
  cwd: z.string().max(4096).optional(),
  env: z
    .record(envName, z.string().max(MAX_COMMAND_CHARS).nullable())
    .refine((e) => Object.keys(e).length <= MAX_ENV_ENTRIES, 'too many environment entries')
    .optional(),
  name: z.string().max(200).optional(),
  restart: z.enum(RESTART_POLICIES).optional(),
  successCodes: z.array(z.number().int().min(0).max(255)).max(256).optional(),
  minUptimeMs: z.number().int().min(0).max(MAX_DURATION_MS).optional(),
  maxRetries: z.number().int().min(0).max(1000).optional(),
  stopSignal: z.enum(STOP_SIGNALS).optional(),
  stopGraceMs: z.number().int().min(0).max(MAX_DURATION_MS).optional(),
  autostart: z.boolean().optional(),
  color: z.boolean().optional(),
  terminal: z.boolean().optional(),
})

const terminalCells = z.number().int().min(TERMINAL_SIZE_LIMITS.min).max(TERMINAL_SIZE_LIMITS.max)

/**
 * The argument tuple of every command. A call whose arguments do not parse is rejected with
 * INVALID_PAYLOAD before it reaches the supervisor.
 */
export const argSchemas = {
  hostInfo: z.tuple([]),
  list: z.tuple([]),
  start: z.tuple([processSpecSchema]),
  restart: z.tuple([id]),
  write: z.tuple([
    id,
    z.string().max(MAX_WRITE_CHARS),
    z.strictObject({ echo: z.boolean().optional() }).optional(),
  ]),
  closeStdin: z.tuple([id]),
  signal: z.tuple([id, z.enum(USER_SIGNALS)]),
  stop: z.tuple([id]),
  kill: z.tuple([id]),
  remove: z.tuple([id]),
  output: z.tuple([
    id,
    z.number().int().min(-1).optional(),
    z.number().int().min(0).max(MAX_READ_BYTES).optional(),
  ]),
  define: z.tuple([processSpecSchema]),
  update: z.tuple([id, processSpecSchema]),
  duplicate: z.tuple([id]),
  retryNow: z.tuple([id]),
  runs: z.tuple([id]),
  runOutput: z.tuple([
    id,
    z.string().min(1).max(64),
    z
      .strictObject({
        afterSeq: z.number().int().min(-1).optional(),
        beforeSeq: z.number().int().min(0).optional(),
        limitBytes: z.number().int().min(1).max(MAX_READ_BYTES).optional(),
      })
      .optional(),
  ]),
  orphans: z.tuple([]),
  endOrphans: z.tuple([]),
  resize: z.tuple([id, terminalCells, terminalCells]),
  ack: z.tuple([id, z.number().int().min(0).max(MAX_ACK_BYTES)]),
} satisfies Record<ApiMethod, z.ZodType>

/** Most processes a viewer may name as the ones it shows (see `OutputFlow.focus`). */
export const MAX_FOCUS_IDS = 256

/** The processes a viewer shows, as a transport receives them: null when invalid. */
export function parseFocus(ids: unknown): string[] | null {
  const parsed = z.array(id).max(MAX_FOCUS_IDS).safeParse(ids)
  return parsed.success ? parsed.data : null
}

/** Whether `name` is a command of the contract. */
export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && (API_METHODS as readonly string[]).includes(name)
}
