import { readFileSync } from "node:fs"
import { hostname } from "node:os"

/** Which process runs a run: enough for another process to tell later whether it is still there. */
export interface RunProcess {
  readonly pid: number
  readonly host: string
  /**
   * When the process started, as the kernel counts it (Linux: /proc/<pid>/stat field 22), so that a
   * pid reused by another process after a crash is not mistaken for the run's. null elsewhere.
   */
  readonly start: string | null
}

/** The start time of process `pid` (clock ticks since boot), or null when it cannot be read. */
export const processStart = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[19] ?? null
  } catch {
    return null
  }
}

let self: RunProcess | undefined
export const currentProcess = (): RunProcess =>
  (self ??= { pid: process.pid, host: hostname(), start: processStart(process.pid) })

/** Whether the process is still there: signal 0 checks it exists; the start time checks it is the same one. */
export const processAlive = (p: { readonly pid: number; readonly start: string | null }): boolean => {
  try {
    process.kill(p.pid, 0)
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false
  }
  if (p.start === null) return true
  const now = processStart(p.pid)
  return now === null || now === p.start
}

export interface RunningRow {
  readonly pid: number | null
  readonly host: string | null
  readonly start: string | null
  /** The last heartbeat (ISO), or the start of the run when it never beat. */
  readonly lastSeen: string
}

/**
 * Why a run marked `running` has no process any more, or undefined while it may still be running.
 * Same host: the pid is gone (or is another process now). Another host (or a run recorded before
 * runs had a pid): no heartbeat for `staleAfterMs`.
 */
export const goneReason = (
  row: RunningRow,
  here: RunProcess,
  nowMs: number,
  staleAfterMs: number,
  alive: (p: { readonly pid: number; readonly start: string | null }) => boolean = processAlive
): string | undefined => {
  if (row.pid !== null && row.host === here.host) {
    if (row.pid === here.pid && (row.start === null || row.start === here.start)) return undefined
    return alive({ pid: row.pid, start: row.start })
      ? undefined
      : `its process (pid ${row.pid} on ${row.host}) is gone; last heard from at ${row.lastSeen}`
  }
  const silentMs = nowMs - Date.parse(row.lastSeen)
  if (silentMs <= staleAfterMs) return undefined
  return row.pid === null
    ? `it was started before runs recorded their process, and nothing was heard from it for ${Math.round(silentMs / 1000)} s (since ${row.lastSeen})`
    : `no heartbeat from its process (pid ${row.pid} on ${row.host}) for ${Math.round(silentMs / 1000)} s (since ${row.lastSeen})`
}
