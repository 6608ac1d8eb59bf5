import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { UsageError } from "../../domain/errors.js"
import { existingWorkspaceLayer, print } from "../context.js"
import { exportText } from "../render/data.js"

const enc = new TextEncoder()

/** Writes the pieces to FILE through a temp file renamed at the end: an interrupted export leaves no partial file. */
const writeFile = (file: string, pieces: Iterable<string | Uint8Array>) =>
  Effect.try({
    try: () => {
      const tmp = `${file}.tmp-${process.pid}`
      let bytes = 0
      const fd = fs.openSync(tmp, "w")
      try {
        for (const p of pieces) {
          const b = typeof p === "string" ? enc.encode(p) : p
          for (let o = 0; o < b.byteLength;) o += fs.writeSync(fd, b, o, b.byteLength - o)
          bytes += b.byteLength
        }
        fs.closeSync(fd)
      } catch (e) {
        fs.closeSync(fd)
        fs.rmSync(tmp, { force: true })
        throw e
      }
      fs.renameSync(tmp, file)
      return bytes
    },
    catch: (e) => new UsageError({ message: `cannot write ${file}: ${e instanceof Error ? e.message : String(e)}` })
  })

/**
 * Streams the pieces to stdout, waiting for the pipe to drain (a million rows piped to `head` stay
 * bounded); a reader that closes the pipe early (EPIPE) ends the export quietly, as `cat` would.
 */
const writeStdout = (pieces: Iterable<string | Uint8Array>) =>
  Effect.promise(async () => {
    let closed = false
    let wake: (() => void) | undefined
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e
      closed = true
      wake?.()
    }
    process.stdout.on("error", onError)
    try {
      for (const p of pieces) {
        if (closed) break
        if (!process.stdout.write(p))
          await new Promise<void>((resolve) => {
            wake = resolve
            process.stdout.once("drain", resolve)
          })
      }
    } finally {
      process.stdout.off("error", onError)
      // an EPIPE after the last write (the reader left once everything was queued) is no failure either
      process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e
      })
    }
  })

const dataExport = Command.make(
  "export",
  {
    runId: Args.text({ name: "RUN_ID" }),
    split: Options.choice("split", ["train", "val", "test"]).pipe(
      Options.withDefault("val" as const),
      Options.withDescription("which split of the run")
    ),
    format: Options.choice("format", ["csv", "arrow"]).pipe(
      Options.withDefault("csv" as const),
      Options.withDescription("csv (RFC 4180, missing cells empty) or arrow (Feather v2)")
    ),
    out: Options.file("out").pipe(Options.optional, Options.withDescription("file to write (default: standard output)"))
  },
  (o) =>
    Effect.gen(function* () {
      const { exportSplit } = yield* Effect.promise(() => import("../../programs/exportSplit.js"))
      const e = yield* exportSplit(o.runId, o.split, o.format)
      if (Option.isNone(o.out)) {
        if (o.format === "arrow" && process.stdout.isTTY)
          return yield* Effect.fail(
            new UsageError({ message: "--format arrow writes binary: give --out FILE or redirect standard output" })
          )
        return yield* writeStdout(e.pieces())
      }
      const file = path.resolve(o.out.value)
      const bytes = yield* writeFile(file, e.pieces())
      const summary = {
        run_id: e.runId,
        split: e.split,
        format: e.format,
        rows: e.rows,
        columns: e.columns,
        dataset: e.dataset,
        dataset_version: e.datasetVersion,
        source: e.source,
        out: file,
        bytes
      }
      yield* print(summary, () => exportText(summary))
    })
).pipe(
  Command.withDescription(
    "write one split of a run as a CSV or Arrow file (every column of the dataset, the split's rows)"
  ),
  Command.provide(existingWorkspaceLayer())
)

export const dataSubcommands = [dataExport] as const

export const dataCommand = Command.make("data").pipe(
  Command.withDescription("a run's data"),
  Command.withSubcommands(dataSubcommands)
)
