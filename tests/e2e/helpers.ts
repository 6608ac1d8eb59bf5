import { spawnSync } from "node:child_process"
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

export const tempWorkspace = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-e2e-"))
