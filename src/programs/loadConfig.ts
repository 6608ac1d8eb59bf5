import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import * as path from "node:path"
import { parseDocument } from "yaml"
import { type PipelineConfig, configHash, decodePipelineConfig } from "../domain/config.js"
import { ConfigError } from "../domain/errors.js"

export interface LoadedConfig {
  readonly config: PipelineConfig
  /** Absolute path of the config file. */
  readonly file: string
  /** Folder of the config file: relative paths inside it resolve from here. */
  readonly dir: string
  readonly hash: string
}

/** Parses YAML text, turning a syntax error into one sentence with the line and column. */
export const parseYaml = (text: string, file: string): Either.Either<unknown, ConfigError> => {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  const err = doc.errors[0]
  if (err !== undefined) {
    const pos = err.linePos?.[0]
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : ""
    const first = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")
    const what = err.code === "DUPLICATE_KEY" ? "a key appears twice in the same mapping" : first
    return Either.left(new ConfigError({ file, message: `YAML syntax error${where}: ${what}` }))
  }
  return Either.right(doc.toJS({ maxAliasCount: 100 }))
}

export const readYamlFile = Effect.fn("config.readYaml")(function* (file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError(
      (e) =>
        new ConfigError({
          file,
          message:
            e._tag === "SystemError" && e.reason === "NotFound"
              ? "file not found"
              : `cannot read the file (${e.message})`,
          cause: e
        })
    )
  )
  return yield* parseYaml(text, file)
})

/** Reads, parses and strictly decodes a pipeline config. */
export const loadConfig = Effect.fn("config.load")(function* (file: string) {
  const abs = path.resolve(file)
  const raw = yield* readYamlFile(abs)
  const config = yield* decodePipelineConfig(raw, abs)
  return { config, file: abs, dir: path.dirname(abs), hash: configHash(config) } satisfies LoadedConfig
})
