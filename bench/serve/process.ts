import type { ChildProcess, spawn as spawnFn } from "node:child_process"

export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess
  /** SIGTERM, then the exit code (SIGKILL after 15 s). */
  readonly stop: () => Promise<number | null>
  readonly stderr: () => string
}

/** Starts `driftgate serve ARGS` and resolves once it prints the address it listens on. */
export const startServe = (
  spawn: typeof spawnFn,
  bin: string,
  cwd: string,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {}
): Promise<ServeProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "serve", ...args], {
      cwd,
      env: { ...process.env, DRIFTGATE_WORKSPACE: "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = "",
      err = ""
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`serve did not start in 30 s: ${err}`))
    }, 30_000)
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString()
    })
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1]!, child, stop, stderr: () => err })
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code}) before listening: ${err}`))
    })
  })
