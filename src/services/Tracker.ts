import { Context, type Effect } from "effect"
import type { RunNotFound, StoreError } from "../domain/errors.js"

export type RunStatus = "running" | "completed" | "failed" | "blocked" | "cancelled"

export interface RunRecord {
  readonly runId: string
  readonly experiment: string
  readonly status: RunStatus
  readonly startedAt: string
  readonly endedAt: string | null
  readonly error: string | null
  /** Lineage anchors recorded at run creation (execution_id, config_hash, dataset_version, …). */
  readonly anchors: Readonly<Record<string, string>>
}

export interface MetricRecord {
  readonly key: string
  readonly value: number
  readonly step: number
  readonly at: string
}

export interface ArtifactRecord {
  readonly name: string
  readonly path: string
  readonly sha256: string | null
}

export interface RunDetail {
  readonly run: RunRecord
  readonly params: Readonly<Record<string, string>>
  readonly metrics: ReadonlyArray<MetricRecord>
  readonly tags: Readonly<Record<string, string>>
  readonly artifacts: ReadonlyArray<ArtifactRecord>
}

/** The experiment record: runs, params, metrics (with step), tags and artifacts. */
export class Tracker extends Context.Tag("driftgate/Tracker")<
  Tracker,
  {
    readonly createRun: (input: {
      readonly runId: string
      readonly experiment: string
      readonly anchors: Readonly<Record<string, string>>
    }) => Effect.Effect<RunRecord, StoreError>
    readonly logParams: (
      runId: string,
      params: Readonly<Record<string, string | number | boolean | null>>
    ) => Effect.Effect<void, StoreError | RunNotFound>
    readonly logMetrics: (
      runId: string,
      metrics: ReadonlyArray<{ readonly key: string; readonly value: number; readonly step?: number }>
    ) => Effect.Effect<void, StoreError | RunNotFound>
    readonly setTags: (
      runId: string,
      tags: Readonly<Record<string, string>>
    ) => Effect.Effect<void, StoreError | RunNotFound>
    readonly logArtifact: (runId: string, artifact: ArtifactRecord) => Effect.Effect<void, StoreError | RunNotFound>
    readonly endRun: (
      runId: string,
      status: Exclude<RunStatus, "running">,
      error?: string
    ) => Effect.Effect<void, StoreError | RunNotFound>
    readonly getRun: (runId: string) => Effect.Effect<RunDetail, StoreError | RunNotFound>
    readonly listRuns: (filter?: {
      readonly experiment?: string
      readonly limit?: number
    }) => Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
  }
>() {}
