import { Clock, Effect, Either, Layer, Option, Ref } from "effect"
import type { ArtifactFile } from "../../domain/artifacts.js"
import { RegistryError, StaleComparison, StoreError } from "../../domain/errors.js"
import { uuidv7 } from "../../domain/ids.js"
import {
  type AuditRecord,
  EMPTY_HEAD,
  type ModelVersion,
  type RegisteredModel,
  type RegistryHead,
  type RollbackIntent,
  verifyChain
} from "../../domain/registry.js"
import {
  abandonRollbackTx,
  appendAudit,
  beginRollbackTx,
  completeRollbackTx,
  promoteTx,
  setAliasTx,
  transitionTx
} from "./operations.js"
import type { RegistryTx, StoredVersion } from "./RegistryTx.js"
import { Registry } from "../../services/Registry.js"
import { pollChanges } from "./follow.js"

/** The whole registry as immutable data: an operation builds a new state or leaves this one as it was. */
export interface RegistryMemoryState {
  readonly models: ReadonlyMap<string, RegisteredModel>
  /** Per model, ascending by version number. */
  readonly versions: ReadonlyMap<string, ReadonlyArray<StoredVersion>>
  /** Per model, alias → version. */
  readonly aliases: ReadonlyMap<string, ReadonlyMap<string, number>>
  readonly audit: ReadonlyArray<AuditRecord>
  /** In creation order. */
  readonly intents: ReadonlyMap<string, RollbackIntent>
  /** Per "<model>@<version>", the files recorded at registration (absent: none recorded). */
  readonly files: ReadonlyMap<string, ReadonlyArray<ArtifactFile>>
}

const fileKey = (name: string, version: number) => `${name}@${version}`

export const emptyRegistryMemoryState: RegistryMemoryState = {
  models: new Map(),
  versions: new Map(),
  aliases: new Map(),
  audit: [],
  intents: new Map(),
  files: new Map()
}

const withAliases = (
  state: Pick<RegistryMemoryState, "versions" | "aliases">,
  name: string
): ReadonlyArray<ModelVersion> => {
  const aliases = [...(state.aliases.get(name) ?? new Map<string, number>())].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  )
  return (state.versions.get(name) ?? []).map((v) => ({
    ...v,
    aliases: aliases.filter(([, target]) => target === v.version).map(([alias]) => alias)
  }))
}

/**
 * A transaction over a copy of `base`: writes go to fresh maps and arrays (the base is never
 * mutated) and `commit` returns the new state. The checks SQLite makes with keys, CHECK and
 * unique indexes are made here too, so both layers refuse the same impossible writes.
 */
const draft = (base: RegistryMemoryState) => {
  const models = new Map(base.models)
  const versions = new Map(base.versions)
  const aliases = new Map(base.aliases)
  const intents = new Map(base.intents)
  const files = new Map(base.files)
  const appended: AuditRecord[] = []
  const constraint = (message: string): never => {
    throw new Error(`constraint failed: ${message}`)
  }
  const updateVersion = (name: string, version: number, f: (v: StoredVersion) => StoredVersion) => {
    const list = versions.get(name) ?? []
    if (!list.some((v) => v.version === version)) constraint(`no version ${version} of ${name}`)
    versions.set(
      name,
      list.map((v) => (v.version === version ? f(v) : v))
    )
  }
  const checkOneProduction = (name: string) => {
    if ((versions.get(name) ?? []).filter((v) => v.stage === "Production").length > 1) {
      constraint(`two Production versions of ${name}`)
    }
  }
  const lastAudit = () => appended[appended.length - 1] ?? base.audit[base.audit.length - 1]

  const tx: RegistryTx = {
    getModel: (name) => models.get(name),
    insertModel: (m) => {
      if (models.has(m.name)) constraint(`model ${m.name} exists`)
      models.set(m.name, m)
    },
    versions: (name) => withAliases({ versions, aliases }, name),
    insertVersion: (v) => {
      if (!models.has(v.name)) constraint(`no model ${v.name}`)
      const list = versions.get(v.name) ?? []
      if (list.some((x) => x.version === v.version)) constraint(`version ${v.version} of ${v.name} exists`)
      versions.set(
        v.name,
        [...list, v].sort((a, b) => a.version - b.version)
      )
      checkOneProduction(v.name)
    },
    setStage: (name, version, stage, at) => {
      updateVersion(name, version, (v) => ({ ...v, stage, updatedAt: at }))
      checkOneProduction(name)
    },
    aliasTarget: (name, alias) => aliases.get(name)?.get(alias),
    setAlias: (name, alias, version) => {
      if (!(versions.get(name) ?? []).some((v) => v.version === version)) constraint(`no version ${version} of ${name}`)
      aliases.set(name, new Map(aliases.get(name) ?? []).set(alias, version))
    },
    lastAudit: () => {
      const last = lastAudit()
      return last === undefined ? undefined : { seq: last.seq, hash: last.hash }
    },
    appendAudit: (r) => {
      const last = lastAudit()
      if (r.seq !== (last?.seq ?? 0) + 1) constraint(`audit record ${r.seq} out of sequence`)
      appended.push(r)
    },
    getIntent: (id) => intents.get(id),
    pendingIntent: (model) => [...intents.values()].find((i) => i.model === model && i.status === "pending"),
    insertIntent: (i) => {
      if (intents.has(i.id)) constraint(`intent ${i.id} exists`)
      if (i.status === "pending" && tx.pendingIntent(i.model) !== undefined)
        constraint(`a pending intent for ${i.model} exists`)
      intents.set(i.id, i)
    },
    setIntentStatus: (id, status) => {
      const i = intents.get(id)
      if (i === undefined) constraint(`no intent ${id}`)
      else intents.set(id, { ...i, status })
    },
    insertFiles: (name, version, list) => {
      if (!(versions.get(name) ?? []).some((v) => v.version === version)) constraint(`no version ${version} of ${name}`)
      if (files.has(fileKey(name, version))) constraint(`files of ${name} version ${version} are already recorded`)
      files.set(
        fileKey(name, version),
        [...list].sort((a, b) => (a.file < b.file ? -1 : 1))
      )
    },
    files: (name, version) => files.get(fileKey(name, version))
  }
  const commit = (): RegistryMemoryState => ({
    models,
    versions,
    aliases,
    intents,
    files,
    audit: appended.length === 0 ? base.audit : [...base.audit, ...appended]
  })
  return { tx, commit }
}

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => ({ ms, at: new Date(ms).toISOString() }))

const make = (ref: Ref.Ref<RegistryMemoryState>) => {
  /** Atomic: the draft is built and committed inside one Ref.modify, or the state stays as it was. */
  const write = <A>(
    op: string,
    f: (tx: RegistryTx) => A
  ): Effect.Effect<A, RegistryError | StaleComparison | StoreError> =>
    Ref.modify(ref, (state): [Either.Either<A, RegistryError | StaleComparison | StoreError>, RegistryMemoryState] => {
      const d = draft(state)
      try {
        const a = f(d.tx)
        return [Either.right(a), d.commit()]
      } catch (e) {
        const error =
          e instanceof RegistryError || e instanceof StaleComparison
            ? e
            : new StoreError({ op: `registry.${op}`, message: e instanceof Error ? e.message : String(e) })
        return [Either.left(error), state]
      }
    }).pipe(Effect.flatMap((r) => (Either.isRight(r) ? Effect.succeed(r.right) : Effect.fail(r.left))))

  /** For operations that only a rule can refuse, never a compare-and-set. */
  const ruled = <A>(op: string, f: (tx: RegistryTx) => A): Effect.Effect<A, RegistryError | StoreError> =>
    write(op, f).pipe(
      Effect.catchTag("StaleComparison", (e) =>
        Effect.fail(new StoreError({ op: `registry.${op}`, message: e.message, cause: e }))
      )
    )

  const read = <A>(f: (s: RegistryMemoryState) => A): Effect.Effect<A, StoreError> => Effect.map(Ref.get(ref), f)
  const memoryHead = (s: RegistryMemoryState): RegistryHead => {
    const last = s.audit[s.audit.length - 1]
    return last === undefined ? EMPTY_HEAD : { seq: last.seq, hash: last.hash }
  }

  return Registry.of({
    listModels: () =>
      read((s) => [...s.models.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
    listVersions: (name) => read((s) => withAliases(s, name)),
    getVersion: (name, version) =>
      read((s) => Option.fromNullable(withAliases(s, name).find((v) => v.version === version))),
    getByStage: (name, stage) => read((s) => withAliases(s, name).filter((v) => v.stage === stage)),
    getProduction: (name) =>
      read((s) => Option.fromNullable(withAliases(s, name).find((v) => v.stage === "Production"))),
    promote: (input) => Effect.flatMap(isoNow, ({ at }) => write("promote", (tx) => promoteTx(tx, input, at))),
    transition: (input) => Effect.flatMap(isoNow, ({ at }) => ruled("transition", (tx) => transitionTx(tx, input, at))),
    setAlias: (input) => Effect.flatMap(isoNow, ({ at }) => ruled("setAlias", (tx) => setAliasTx(tx, input, at))),
    record: (entry) =>
      Effect.flatMap(isoNow, ({ at }) =>
        ruled("record", (tx) => appendAudit(tx, at, entry)).pipe(
          Effect.catchTag("RegistryError", (e) =>
            Effect.fail(new StoreError({ op: "registry.record", message: e.message }))
          )
        )
      ),
    beginRollback: (input) =>
      Effect.flatMap(isoNow, ({ at, ms }) =>
        write("beginRollback", (tx) => beginRollbackTx(tx, input, at, uuidv7(ms)))
      ),
    completeRollback: (intentId, actor) =>
      Effect.flatMap(isoNow, ({ at }) =>
        write("completeRollback", (tx) => completeRollbackTx(tx, intentId, at, actor))
      ),
    abandonRollback: (intentId, reason, actor) =>
      Effect.flatMap(isoNow, ({ at }) =>
        ruled("abandonRollback", (tx) => abandonRollbackTx(tx, intentId, reason, actor, at))
      ),
    pendingRollbacks: () =>
      read((s) =>
        [...s.intents.values()]
          .filter((i) => i.status === "pending")
          .sort((a, b) =>
            a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
          )
      ),
    audit: (name) => read((s) => (name === undefined ? s.audit : s.audit.filter((r) => r.model === name))),
    verify: () => read((s) => verifyChain(s.audit)),
    artifactFiles: (name, version) => read((s) => Option.fromNullable(s.files.get(fileKey(name, version)))),
    // Nothing outside the state to check: no database file, no anchor file.
    inspectStore: () => Effect.succeed({ checked: [], problems: [], notes: [] }),
    head: () => read(memoryHead),
    changes: (options) => pollChanges(read(memoryHead), options?.pollMs)
  })
}

/** A fresh in-memory registry together with its state, which tests may inspect or tamper with. */
export const makeRegistryMemoryWithState = Effect.gen(function* () {
  const state = yield* Ref.make(emptyRegistryMemoryState)
  return { registry: make(state), state }
})

export const makeRegistryMemory = Effect.map(makeRegistryMemoryWithState, ({ registry }) => registry)

/** The registry in memory, for tests and embedding: same rules and audit chain as RegistrySqlite. */
export const RegistryMemory: Layer.Layer<Registry> = Layer.effect(Registry, makeRegistryMemory)
