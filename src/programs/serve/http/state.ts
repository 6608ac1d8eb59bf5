import type { ServeMetrics } from "../metrics.js"
import type { ModelSet, ModelSource, ServedModel } from "../modelSet.js"
import type { JsonSchema } from "../requestSchema.js"
import { modelSummary } from "./presentation.js"

/** Metric labels of a served model version. */
export interface Labels {
  readonly model: string
  readonly version: string
}

/** The labels of a predict request refused before it named a served model. */
export const UNKNOWN_LABELS: Labels = { model: "_unknown", version: "" }

export interface LastReload {
  readonly at: string
  readonly ok: boolean
  readonly error?: string
}

export type ReloadOutcome = { ok: true; set: ModelSet; previous: ModelSet } | { ok: false; error: string }

/** What the routes share: the model set now served, its metric labels, and the one way to replace it. */
export interface ServedState {
  /** The set to answer with; a request reads it once and keeps it, whatever a reload does meanwhile. */
  readonly current: () => ModelSet
  readonly labels: (model: ServedModel) => Labels | undefined
  readonly lastReload: () => LastReload | null
  /** Re-reads the source and swaps the set; one reload at a time (a second waits, then reads again). */
  readonly reload: () => Promise<ReloadOutcome>
}

export const makeServedState = (initial: ModelSet, source: ModelSource, metrics: ServeMetrics): ServedState => {
  // Ajv keeps every schema object it compiled (a Map, not a WeakMap): reuse one object per distinct
  // schema, so reloading the same feature maps compiles nothing new and memory stays flat.
  const schemaObjects = new Map<string, JsonSchema>()
  const intern = (schema: JsonSchema): JsonSchema => {
    const key = JSON.stringify(schema)
    const hit = schemaObjects.get(key)
    if (hit !== undefined) return hit
    schemaObjects.set(key, schema)
    return schema
  }
  const labels = new WeakMap<ServedModel, Labels>()
  let current: ModelSet = initial
  let lastReload: LastReload | null = null
  const swap = (loaded: ModelSet) => {
    const models = new Map<string, ServedModel>()
    for (const [name, m] of loaded.models) {
      const served: ServedModel = {
        ...m,
        schemas: { single: intern(m.schemas.single), batch: intern(m.schemas.batch) }
      }
      labels.set(served, { model: m.name, version: String(m.version) })
      models.set(name, served)
    }
    current = { ...loaded, models }
    metrics.setModels([...models.values()].map(modelSummary))
    if (loaded.registryHead !== undefined) metrics.registrySeq(loaded.registryHead.seq)
    return current
  }
  current = swap(current)

  let queue: Promise<unknown> = Promise.resolve()
  const reload = (): Promise<ReloadOutcome> => {
    const run = async (): Promise<ReloadOutcome> => {
      const previous = current
      try {
        const set = swap(await source.load()) // one reference swap: requests already running keep `previous`
        metrics.reload("success")
        lastReload = { at: new Date().toISOString(), ok: true }
        return { ok: true as const, set, previous }
      } catch (e) {
        metrics.reload("failure")
        const error = e instanceof Error ? e.message : String(e)
        lastReload = { at: new Date().toISOString(), ok: false, error }
        return { ok: false as const, error }
      }
    }
    const next = queue.then(run, run)
    queue = next
    return next
  }

  return {
    current: () => current,
    labels: (model) => labels.get(model),
    lastReload: () => lastReload,
    reload
  }
}
