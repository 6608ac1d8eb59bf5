import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { runPipeline } from "../../src/programs/runPipeline.js"

export const root = path.resolve(__dirname, "../..")

/** Writes a variant of a shipped config to a temp file (data_root made absolute) and returns its path. */
export const configVariant = (shipped: string, edit: (text: string) => string = (t) => t): string => {
  const text = fs.readFileSync(path.join(root, "configs", shipped), "utf8")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-config-"))
  const file = path.join(dir, shipped)
  fs.writeFileSync(file, `data_root: ${path.join(root, "data/raw")}\n${edit(text)}`)
  return file
}

export const runConfig = (file: string) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(file)
    return yield* runPipeline({
      loaded,
      codeRevision: "0123456789abcdef0123456789abcdef01234567",
      driftgateVersion: "0.1.0-test"
    })
  })
