// `drift monitor --batch` reads an unlabelled batch once, in pieces, so it can come from a pipe
// (`--batch /dev/stdin`, `<(zcat batch.csv.gz)`); a labelled batch (stage-training) is read twice and
// must be a regular file, which the error says.
import { describe, expect, it } from "vitest"
import { Effect, Either } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parse } from "yaml"
import { decodeDatasetSpec } from "../../src/domain/dataset.js"
import { readBatch } from "../../src/programs/drift/batch.js"

const root = path.resolve(__dirname, "../..")
const csv = path.join(root, "data/raw/iris/data.csv")
const spec = Either.getOrThrow(
  decodeDatasetSpec(parse(fs.readFileSync(path.join(root, "data/raw/iris/dataset.yaml"), "utf8")), "dataset.yaml")
)
const hasMkfifo = spawnSync("mkfifo", ["--version"], { stdio: "ignore" }).status === 0

/** A named pipe that a separate process fills with the iris CSV (the reader blocks in this one). */
const pipeOfIris = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-fifo-"))
  const fifo = path.join(dir, "batch.csv")
  spawnSync("mkfifo", [fifo])
  spawn("sh", ["-c", `cat "${csv}" > "${fifo}"`], { stdio: "ignore" })
  return fifo
}

describe.skipIf(!hasMkfifo)("drift batches from a pipe", () => {
  it("an unlabelled batch is read from a named pipe: the same SHA-256 and rows as the file", async () => {
    const fifo = pipeOfIris()
    const batch = await Effect.runPromise(readBatch(fifo, spec, { labelled: false }))
    expect(batch.sha256).toBe(createHash("sha256").update(fs.readFileSync(csv)).digest("hex"))
    const fromFile = await Effect.runPromise(readBatch(csv, spec, { labelled: false }))
    expect(batch.frame.rows).toBe(fromFile.frame.rows)
    expect(batch.frame.columns.map((c) => c.name)).toEqual(fromFile.frame.columns.map((c) => c.name))
  })

  it("a labelled batch from a pipe is refused with a sentence saying why", async () => {
    const fifo = pipeOfIris()
    const r = await Effect.runPromise(Effect.either(readBatch(fifo, spec, { labelled: true })))
    expect(Either.isLeft(r) && r.left._tag).toBe("UsageError")
    if (Either.isLeft(r)) expect(r.left.message).toContain("read twice")
    // the writer is still waiting for a reader: let it finish
    fs.readFileSync(fifo)
  })
})
