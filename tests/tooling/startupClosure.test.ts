// What `driftgate --help` evaluates: the bundle's static import closure from src/cli/main.ts (the
// chunks a start loads before any command runs). A static import of a program from src/cli/ pulls the
// learners, the stores, drift and apache-arrow into every start (issue #12 item 16: --help took 1.2 s);
// bench/startup.ts measures the time, this test pins the cause without timing anything.
import { build, type Metafile } from "esbuild"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
// @ts-expect-error -- a plain .mjs build script without declarations
import { common } from "../../scripts/buildOptions.mjs"

const root = path.resolve(__dirname, "../..")

const staticClosure = (meta: Metafile, entry: string): Set<string> => {
  const outputs = meta.outputs
  const start = Object.keys(outputs).find((k) => outputs[k]!.entryPoint === entry)
  if (start === undefined) throw new Error(`no output for ${entry}`)
  const seen = new Set<string>()
  const stack = [start]
  while (stack.length > 0) {
    const o = stack.pop()!
    if (seen.has(o) || outputs[o] === undefined) continue
    seen.add(o)
    for (const i of outputs[o].imports) if (i.kind === "import-statement") stack.push(i.path)
  }
  const inputs = new Set<string>()
  for (const o of seen) for (const i of Object.keys(outputs[o]!.inputs)) inputs.add(i)
  return inputs
}

describe("CLI start-up loads only the CLI (bench/startup.ts)", () => {
  it("the learners, stores, drift, DNG reader, apache-arrow and undici are loaded on demand", async () => {
    const result = await build({
      ...(common as object),
      entryPoints: { cli: "src/cli/main.ts" },
      absWorkingDir: root,
      outdir: path.join(root, "dist-closure-test"),
      splitting: true,
      write: false,
      metafile: true,
      logLevel: "silent"
    })
    const inputs = [...staticClosure(result.metafile, "src/cli/main.ts")]
    const loaded = (pattern: RegExp) => inputs.filter((i) => pattern.test(i))
    // sanity: the closure is real (the CLI itself and effect are in it)
    expect(loaded(/^src\/cli\/main\.ts$/)).toHaveLength(1)
    expect(loaded(/node_modules\/effect\//).length).toBeGreaterThan(10)
    for (const heavy of [
      /node_modules\/apache-arrow\//,
      /node_modules\/undici\//,
      /node_modules\/csv-parse\//,
      /^src\/layers\/live\.ts$/,
      /^src\/programs\/runPipeline\.ts$/,
      /^src\/programs\/drift\//,
      /^src\/ml\//,
      /^src\/stats\//,
      /^src\/vision\//,
      /^src\/layers\/(sqlite|postgres|registry|tracker|trainer)\//
    ])
      expect(loaded(heavy), `${heavy.source} is loaded by every CLI start`).toEqual([])
  }, 60_000)
})
