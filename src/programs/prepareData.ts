import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import * as path from "node:path"
import { stringify as toYaml } from "yaml"
import { inferSchemaColumns, readOptionsFor, validateColumns } from "../domain/contract.js"
import { type ColumnTable, isNumeric, tableColumn } from "../domain/columnTable.js"
import { encodeIndices, encodeTable } from "../domain/arrowIpc.js"
import { CsvColumnReader, type CsvReadOptions, type CsvReadResult, mergeReread } from "../domain/csvReader.js"
import { createHash } from "node:crypto"
import type { PipelineConfig } from "../domain/config.js"
import { type DatasetSpec, decodeDatasetSpec } from "../domain/dataset.js"
import {
  ContractViolation,
  DatasetNotFound,
  DatasetSpecMissing,
  StagingOutdated,
  UsageError
} from "../domain/errors.js"
import { canonicalHash } from "../domain/hash.js"
import { splitIndices } from "../domain/split.js"
import { missingComment, missingRule } from "../domain/missing.js"
import { Prompt } from "../services/Prompt.js"
import { Storage } from "../services/Storage.js"
import { readYamlFile } from "./loadConfig.js"
import { datasetDir, datasetKeys, splitKeys } from "./workspace.js"
import { activeStaging, isImageStaging } from "./drift/stagingState.js"
import type { PreparedData, SplitInfo } from "./pipelineTypes.js"
import { prepareImages } from "./prepareImages.js"
import { rememberSnapshot } from "./tableCache.js"

export interface PrepareInput {
  readonly config: PipelineConfig
  readonly configDir: string
  /** Create a missing dataset.yaml non-interactively. */
  readonly target?: string | undefined
  readonly task?: "classification" | "regression" | undefined
}

/**
 * --target/--task only create a missing dataset.yaml; given when it exists, they must say what it
 * says (a silent disagreement would train on a target the operator did not ask for).
 */
const flagsAgree = (
  input: PrepareInput,
  spec: { readonly target: string; readonly task_type: string },
  specFile: string
): Effect.Effect<void, UsageError> => {
  const clashes = [
    ...(input.target !== undefined && input.target !== spec.target
      ? [`--target ${input.target} but ${specFile} says target: ${spec.target}`]
      : []),
    ...(input.task !== undefined && input.task !== spec.task_type
      ? [`--task ${input.task} but ${specFile} says task_type: ${spec.task_type}`]
      : [])
  ]
  return clashes.length === 0
    ? Effect.void
    : Effect.fail(
        new UsageError({
          message: `${clashes.join("; ")} (the flags only create a missing dataset.yaml: drop them or edit the file)`
        })
      )
}

export type { PreparedData, SplitInfo } from "./pipelineTypes.js"

const sortedCounts = (out: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))

/** The target of each row as text (the stratum of a stratified split), null when missing. */
const targetLabels = (table: ColumnTable, target: string): Array<string | null> => {
  const col = tableColumn(table, target)!
  const out: Array<string | null> = new Array(table.rows)
  if (isNumeric(col))
    for (let i = 0; i < table.rows; i++) out[i] = Number.isNaN(col.values[i]) ? null : String(col.values[i])
  else for (let i = 0; i < table.rows; i++) out[i] = col.codes[i]! < 0 ? null : col.dictionary[col.codes[i]!]!
  return out
}

/** Label counts of the rows `idx` (sorted by label, "(empty)" for a missing one). */
const labelCountsAt = (labels: ReadonlyArray<string | null>, idx: ReadonlyArray<number>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const i of idx) {
    const v = labels[i] ?? "(empty)"
    out[v] = (out[v] ?? 0) + 1
  }
  return sortedCounts(out)
}

/** Pieces a CSV source hands out (and the reader and the hash take in turn). */
const CHUNK_BYTES = 1 << 22

/**
 * A CSV to read, once or again (a re-read pass), piece by piece: the raw file, or bytes already in memory
 * (a merged drift-training version). A file is read into one 4 MiB buffer used over and over: reading it
 * whole first cost a new buffer the size of the file (the VM's first touch of 82 MB took ~0.4 s, and the
 * peak memory held it), and FileSystem.readFile reads in 512 KiB round trips.
 */
interface CsvSource {
  readonly size: number
  /** Hands each piece to `chunk` in order (a view valid only during the call). */
  readonly chunks: (chunk: (bytes: Uint8Array) => void) => Effect.Effect<void, DatasetNotFound>
  /** The error for a source whose bytes differ between two passes. */
  readonly changed: () => DatasetNotFound
}

const bytesSource = (bytes: Uint8Array, dataset: string, file: string): CsvSource => ({
  size: bytes.length,
  changed: () => changedWhileRead(dataset, file),
  chunks: (chunk) =>
    Effect.sync(() => {
      for (let o = 0; o < bytes.length; o += CHUNK_BYTES)
        chunk(bytes.subarray(o, Math.min(bytes.length, o + CHUNK_BYTES)))
    })
})

const fileSource = (fs: FileSystem.FileSystem, file: string, dataset: string) =>
  Effect.map(fs.stat(file), (info): CsvSource => ({
    size: Number(info.size),
    changed: () => changedWhileRead(dataset, file),
    chunks: (chunk) =>
      Effect.scoped(
        Effect.gen(function* () {
          const f = yield* fs.open(file, { flag: "r" })
          const buf = new Uint8Array(CHUNK_BYTES)
          for (;;) {
            const n = Number(yield* f.read(buf))
            if (n === 0) return
            chunk(buf.subarray(0, n))
          }
        })
      ).pipe(Effect.mapError((e) => unreadable(dataset, file, e)))
  })).pipe(Effect.mapError((e) => unreadable(dataset, file, e)))

const changedWhileRead = (dataset: string, file: string) =>
  new DatasetNotFound({
    dataset,
    path: file,
    message: "it changed while it was read (its bytes differ between two passes); run again once it is written"
  })

const unreadable = (dataset: string, file: string, e: { readonly message: string }) =>
  new DatasetNotFound({ dataset, path: file, message: `cannot read it (${e.message})`, cause: e })

/** One pass over the source: each piece to `take` (if any); the SHA-256 of the bytes read. */
const hashedPass = (source: CsvSource, take?: (chunk: Uint8Array) => void) =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    return Effect.map(
      source.chunks((c) => {
        hash.update(c)
        take?.(c)
      }),
      () => hash.digest("hex")
    )
  })

/**
 * One pass over the source into typed columns, with the SHA-256 of the bytes read (the dataset version),
 * then any re-read pass.
 */
const readSource = (source: CsvSource, options: CsvReadOptions) =>
  Effect.gen(function* () {
    const reader = new CsvColumnReader(options)
    const version = yield* hashedPass(source, (c) => reader.push(c))
    const first = reader.finish()
    const read =
      first.reread.length === 0
        ? first
        : mergeReread(first, yield* rereadSource(source, options, first.reread, version))
    return { read, version }
  })

/**
 * The second pass over the columns that switched to strings (rereadPass over a source). A file source is
 * read again: if its bytes are not the first pass's (`version`), the file changed in between (an edit
 * while dataset.yaml's questions were asked) and the two passes cannot be merged.
 */
const rereadSource = (source: CsvSource, options: CsvReadOptions, names: ReadonlyArray<string>, version: string) =>
  Effect.gen(function* () {
    const set = new Set(names)
    const reader = new CsvColumnReader({ ...options, stringColumns: set, onlyColumns: set })
    if ((yield* hashedPass(source, (c) => reader.push(c))) !== version) return yield* Effect.fail(source.changed())
    return reader.finish()
  })

/** A whole read of the raw file and its SHA-256, taken in the same pass (reused by prepareVersion when it fits). */
export interface HashedRead {
  readonly read: CsvReadResult
  readonly version: string
}

/**
 * Whether a read is what readOptionsFor(spec) would have produced: every declared column numeric
 * exactly when the spec says float/int (an undeclared reader only leaves a column numeric when every
 * present cell was a number, and makes the rest dictionaries, as declared string/bool columns are).
 */
const typedAsDeclared = (read: CsvReadResult, spec: DatasetSpec): boolean =>
  read.table.columns.every((c) => {
    const dtype = spec.schema[c.name]
    return dtype === undefined || isNumeric(c) === (dtype === "float" || dtype === "int")
  })

/** Finds dataset.yaml for the configured dataset only, creating it when asked or allowed to. */
const ensureSpec = Effect.fn("data.spec")(function* (
  input: PrepareInput,
  dir: string,
  source: CsvSource,
  csvFile: string
) {
  const fs = yield* FileSystem.FileSystem
  const prompt = yield* Prompt
  const specFile = path.join(dir, "dataset.yaml")
  if (yield* fs.exists(specFile).pipe(Effect.orElseSucceed(() => false))) {
    const raw = yield* readYamlFile(specFile)
    const spec = yield* decodeDatasetSpec(raw, specFile)
    yield* flagsAgree(input, spec, specFile)
    return { spec, specFile, created: false, hashed: undefined }
  }
  // Only when creating dataset.yaml (once per dataset): type inference on the columnar reader, hashing the
  // same chunks; the read is kept for prepareVersion. A classification target is read as text, so its
  // labels are the cells as written.
  const rule = missingRule()
  const early = input.task === "classification" && input.target !== undefined ? [input.target] : []
  const options: CsvReadOptions = {
    naValues: rule.tokens,
    naNumbers: rule.numbers,
    sizeHint: source.size,
    stringColumns: new Set(early)
  }
  const first = yield* readSource(source, options)
  let read = first.read
  const version = first.version
  const structural = read.violations.filter((v) => v.rule !== "dtype")
  if (structural.length > 0) {
    return yield* Effect.fail(
      new ContractViolation({ dataset: input.config.dataset, file: csvFile, violations: structural })
    )
  }
  const header = read.header
  let target = input.target
  let task = input.task
  if (target === undefined || task === undefined) {
    if (!prompt.interactive) {
      return yield* Effect.fail(new DatasetSpecMissing({ dataset: input.config.dataset, path: specFile }))
    }
    yield* prompt.say(`${specFile} does not exist yet; two questions create it (once).`)
    target ??= yield* prompt.ask(`Target column (one of: ${header.join(", ")})`, {
      default: header[header.length - 1]!,
      validate: (a) => (header.includes(a) ? undefined : `"${a}" is not a column of ${path.basename(csvFile)}`)
    })
    task ??= yield* prompt.choose("Task type", ["classification", "regression"] as const)
  }
  if (!header.includes(target)) {
    return yield* Effect.fail(
      new UsageError({ message: `--target ${target}: ${csvFile} has no such column (columns: ${header.join(", ")})` })
    )
  }
  const asRead = tableColumn(read.table, target)
  if (task === "classification" && asRead !== undefined && isNumeric(asRead))
    read = mergeReread(read, yield* rereadSource(source, options, [target], version))
  let inferred = inferSchemaColumns(read)
  if (inferred.reread.length > 0) {
    read = mergeReread(read, yield* rereadSource(source, options, inferred.reread, version))
    inferred = inferSchemaColumns(read)
  }
  const schema = Object.fromEntries(header.map((h) => [h, inferred.schema[h]!]))
  if (task === "classification" && schema[target] === "float") schema[target] = "string"
  const targetColumn = tableColumn(read.table, target)
  const labels =
    task === "classification" && targetColumn !== undefined && !isNumeric(targetColumn)
      ? [...targetColumn.dictionary].sort((a, b) => a.localeCompare(b))
      : undefined
  const spec = {
    name: input.config.dataset,
    task_type: task,
    features: header.filter((h) => h !== target),
    target,
    schema,
    na_values: [],
    keep_default_na: true,
    constraints: {
      min_rows: Math.min(read.table.rows, 10),
      max_null_fraction: 0.1,
      ...(labels ? { label_classes: labels } : {})
    }
  }
  const decoded = yield* decodeDatasetSpec(spec, specFile)
  const tally = header.map((h) => read.info.find((i) => i.name === h)?.missingTally ?? new Map())
  const text = `# Created by driftgate from ${path.basename(csvFile)}; review the schema and constraints.\n${missingComment(header, tally)}${toYaml(spec)}`
  yield* fs.writeFileString(`${specFile}.tmp`, text).pipe(
    Effect.zipRight(fs.rename(`${specFile}.tmp`, specFile)),
    Effect.mapError((e) => new UsageError({ message: `cannot write ${specFile}: ${e.message}` }))
  )
  const hashed: HashedRead = { read, version }
  return { spec: decoded, specFile, created: true, hashed }
})

/**
 * Data preparation (runs before every pipeline): detect dataset.yaml → version → validate → split.
 * The snapshot and the split files are immutable and content-addressed, so running again is a no-op
 * that reports the same ids.
 */
export const prepareData = Effect.fn("stage.prepare_data")(function* (input: PrepareInput) {
  const fs = yield* FileSystem.FileSystem
  const storage = yield* Storage
  const { config } = input
  const dir = datasetDir(config, input.configDir)
  if (config.task_type === "image_classification") {
    const specFile = path.join(dir, "dataset.yaml")
    if (!(yield* fs.exists(specFile).pipe(Effect.orElseSucceed(() => false)))) {
      return yield* Effect.fail(
        new DatasetNotFound({
          dataset: config.dataset,
          path: specFile,
          message: "an image dataset needs its dataset.yaml (with image_properties)"
        })
      )
    }
    const spec = yield* decodeDatasetSpec(yield* readYamlFile(specFile), specFile)
    yield* flagsAgree(input, spec, specFile)
    if (spec.task_type !== "image_classification") {
      return yield* Effect.fail(
        new UsageError({
          message: `${specFile} declares task_type ${spec.task_type} but the config declares image_classification`
        })
      )
    }
    return (yield* prepareImages({ config, spec, specFile, dir })) satisfies PreparedData
  }
  const csvFile = path.join(dir, "data.csv")
  if (!(yield* fs.exists(csvFile).pipe(Effect.orElseSucceed(() => false)))) {
    return yield* Effect.fail(
      new DatasetNotFound({
        dataset: config.dataset,
        path: csvFile,
        message: (yield* fs.exists(dir).pipe(Effect.orElseSucceed(() => false)))
          ? "the folder has no data.csv"
          : "no such dataset folder"
      })
    )
  }
  const source = yield* fileSource(fs, csvFile, config.dataset)
  const { spec, specFile, created: specCreated, hashed } = yield* ensureSpec(input, dir, source, csvFile)
  if (spec.task_type !== config.task_type) {
    return yield* Effect.fail(
      new UsageError({
        message: `${specFile} declares task_type ${spec.task_type} but the config declares ${config.task_type}`
      })
    )
  }
  // A staged drift-training batch: train on raw + the batch's training part (a version of its own).
  const staging = yield* activeStaging(config.dataset)
  if (staging !== null && !isImageStaging(staging)) {
    const rawVersion = hashed?.version ?? (yield* hashedPass(source))
    if (staging.base_version !== rawVersion) {
      return yield* Effect.fail(
        new StagingOutdated({
          dataset: config.dataset,
          id: staging.id,
          message: `${csvFile} changed since drift training ${staging.id} was staged against version ${staging.base_version.slice(0, 12)}; run drift unstage-training and stage the batch again`
        })
      )
    }
    const merged = yield* storage.read(staging.merged_key)
    return yield* prepareVersion({
      config,
      spec,
      specFile,
      specCreated,
      source: bytesSource(merged, config.dataset, storage.locate(staging.merged_key)),
      rawFile: csvFile,
      stagedFrom: staging.id
    })
  }
  return yield* prepareVersion({
    config,
    spec,
    specFile,
    specCreated,
    source,
    rawFile: csvFile,
    ...(hashed !== undefined ? { hashed } : {})
  })
})

/** Versions, validates and splits a CSV (the raw file, or a merged drift-training version). */
export const prepareVersion = Effect.fn("data.version")(function* (args: {
  readonly config: PipelineConfig
  readonly spec: DatasetSpec
  readonly specFile: string
  readonly specCreated: boolean
  readonly source: CsvSource
  readonly rawFile: string
  readonly stagedFrom?: string
  /** The read that created dataset.yaml: used instead of a second pass when its columns are typed as the spec says. */
  readonly hashed?: HashedRead
}) {
  const storage = yield* Storage
  const { config, spec, source } = args

  // One pass over the bytes: the CSV reader builds typed columns while the same chunks are hashed.
  let read: CsvReadResult
  let version: string
  if (args.hashed !== undefined && typedAsDeclared(args.hashed.read, spec)) {
    read = args.hashed.read
    version = args.hashed.version
  } else {
    const r = yield* readSource(source, { ...readOptionsFor(spec, missingRule(spec)), sizeHint: source.size })
    read = r.read
    version = r.version
  }
  const keys = datasetKeys(config.dataset, version)
  // What decides how the bytes become typed columns: a changed dtype or missing-value token must give a
  // new snapshot (and new splits and matrices over it), never reuse the one typed the old way.
  const contract = canonicalHash({
    schema: spec.schema,
    na_values: spec.na_values ?? [],
    keep_default_na: spec.keep_default_na ?? true
  })
  const snapshotKey = keys.data(contract)
  const result = validateColumns(read, spec)
  if (result.violations.length > 0) {
    return yield* Effect.fail(
      new ContractViolation({ dataset: config.dataset, file: args.rawFile, violations: result.violations })
    )
  }
  // every column of the file goes into the snapshot (declared ones typed by the contract)
  const validated = new Map(result.table.columns.map((c) => [c.name, c]))
  const table: ColumnTable = {
    rows: read.table.rows,
    columns: read.table.columns.map((c) => validated.get(c.name) ?? c)
  }

  // Snapshot only data that passed validation: a version in the workspace is always a usable one.
  const snapshotCreated = yield* storage.writeOnce(
    snapshotKey,
    encodeTable(table, { dataset: config.dataset, dataset_version: version })
  )
  // preprocessing takes its splits out of this table rather than reading the file back (only when this is
  // the file's content: a snapshot another build wrote is read as it is)
  if (snapshotCreated) rememberSnapshot(storage, storage.locate(snapshotKey), table)
  yield* storage.writeOnce(
    keys.manifest,
    JSON.stringify(
      {
        dataset: config.dataset,
        version,
        rows: table.rows,
        columns: read.header,
        source: args.rawFile,
        ...(args.stagedFrom !== undefined ? { staged_from: args.stagedFrom } : {})
      },
      null,
      2
    ) + "\n"
  )

  const stratify = config.task_type === "classification" && config.split.stratify
  const splitSpec = {
    seed: config.random_seed,
    train: config.split.train,
    val: config.split.val,
    test: config.split.test,
    stratify,
    target: spec.target,
    contract: contract.slice(0, 16)
  }
  const splitId = canonicalHash(splitSpec).slice(0, 16)
  const splitKey = keys.split(splitId)
  const splitFiles = splitKeys(splitKey)
  const labels = stratify || config.task_type === "classification" ? targetLabels(table, spec.target) : undefined
  const idx = splitIndices(table.rows, config.split, config.random_seed, stratify ? labels : undefined)
  const info = (name: "train" | "val" | "test"): SplitInfo => ({
    key: splitFiles.rows(name),
    rows: idx[name].length,
    ...(labels !== undefined ? { labels: labelCountsAt(labels, idx[name]) } : {})
  })
  const splits = { train: info("train"), val: info("val"), test: info("test") }
  for (const name of ["train", "val", "test"] as const) {
    yield* storage.writeOnce(
      splits[name].key,
      encodeIndices(idx[name], { snapshot: snapshotKey, dataset_version: version, split: name })
    )
  }
  yield* storage.writeOnce(
    splitFiles.spec,
    JSON.stringify(
      {
        split_id: splitId,
        dataset_version: version,
        ...splitSpec,
        rows: { train: splits.train.rows, val: splits.val.rows, test: splits.test.rows },
        ...(config.task_type === "classification"
          ? { label_distribution: { train: splits.train.labels, val: splits.val.labels, test: splits.test.labels } }
          : {})
      },
      null,
      2
    ) + "\n"
  )

  return {
    dataset: config.dataset,
    version,
    rawFile: args.rawFile,
    spec,
    specFile: args.specFile,
    specCreated: args.specCreated,
    snapshotKey,
    snapshotCreated,
    rows: table.rows,
    validation: {
      verdict: "passed" as const,
      nullFractions: result.summary.nullFractions,
      ...(result.summary.labels ? { labels: result.summary.labels } : {})
    },
    splitId,
    splitKey,
    splits,
    ...(args.stagedFrom !== undefined ? { stagedFrom: args.stagedFrom } : {})
  } satisfies PreparedData
})
