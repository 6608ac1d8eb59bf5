import { execFile, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const root = path.resolve(__dirname, "../..")
export const bin = path.join(root, "bin/driftgate.js")

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built CLI (npm test builds it first) without a TTY, like CI. */
export const cli = (
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {}
): CliResult => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, DRIFTGATE_WORKSPACE: "", ...options.env },
    input: options.input ?? "",
    encoding: "utf8",
    timeout: 120_000
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/**
 * `cli` without blocking the test worker: a spawnSync of a long `run` (a minute on loaded cores) stops
 * the worker from answering vitest's RPC, which then fails the whole run with "Timeout calling onTaskUpdate".
 */
export const cliAsync = (
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: Record<string, string> } = {}
): Promise<CliResult> =>
  new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: options.cwd ?? root,
        env: { ...process.env, DRIFTGATE_WORKSPACE: "", ...options.env },
        encoding: "utf8",
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
          stdout,
          stderr
        })
    )
    child.stdin?.end()
  })

export const tempWorkspace = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-e2e-"))
