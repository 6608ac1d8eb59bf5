import { Context, type Effect } from "effect"
import type { RunNotFound, StoreError } from "../domain/errors.js"

/** `interrupted`: the run's process went away (killed, crashed, machine lost) before it ended the run. */
export type RunStatus = "running" | "completed" | "failed" | "blocked" | "cancelled" | "interrupted"

export interface RunRecord {
  readonly runId: string
  readonly experiment: string
  readonly status: RunStatus
  readonly startedAt: string
  readonly endedAt: string | null
  readonly error: string | null
  /** Lineage anchors recorded at run creation (execution_id, config_hash, dataset_version, …). */
  readonly anchors: Readonly<Record<string, string>>
  /** The process that ran it (null for runs recorded before runs kept it). */
  readonly process: { readonly pid: number; readonly host: string } | null
  /** The last sign of life of that process while the run was running. */
  readonly heartbeatAt: string | null
  /** When a later command found the process gone and marked the run `interrupted`. */
  readonly interruptedAt: string | null
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

/** How a page of runs is ordered; `duration` puts runs without an end last. */
export type RunSort = "started_at" | "experiment" | "status" | "duration"

/** One page of runs, filtered and sorted by the store (a dashboard over 10,000 runs never loads them all). */
export interface RunQuery {
  readonly experiment?: string | undefined
  readonly status?: RunStatus | undefined
  /** A dataset name (the run's `dataset` tag) or a prefix of its dataset version. */
  readonly dataset?: string | undefined
  readonly sort?: RunSort | undefined
  /** Default true: newest, longest, last name first. */
  readonly descending?: boolean | undefined
  readonly offset?: number | undefined
  /** Default 50, at most 500. */
  readonly limit?: number | undefined
  /** Metric keys (step 0) to return with each run, e.g. ["val.accuracy"]. */
  readonly metrics?: ReadonlyArray<string> | undefined
}

export interface RunSummary {
  readonly run: RunRecord
  readonly tags: Readonly<Record<string, string>>
  /** The metrics the query asked for that the run has. */
  readonly metrics: Readonly<Record<string, number>>
}

export interface RunPage {
  /** Runs matching the filters, all pages together. */
  readonly total: number
  readonly runs: ReadonlyArray<RunSummary>
  /** Every experiment (pipeline) and dataset name in the store, for filter choices. */
  readonly experiments: ReadonlyArray<string>
  readonly datasets: ReadonlyArray<string>
}

export const RUN_PAGE_MAX = 500

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
      status: Exclude<RunStatus, "running" | "interrupted">,
      error?: string
    ) => Effect.Effect<void, StoreError | RunNotFound>
    /**
     * Marks `interrupted` every `running` run whose process is gone (same host: its pid is no longer
     * that process; another host: no heartbeat within the bound), with when that was detected and
     * why; returns them. Every command that opens a store runs it once (the layer does).
     */
    readonly recoverInterrupted: () => Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
    readonly getRun: (runId: string) => Effect.Effect<RunDetail, StoreError | RunNotFound>
    readonly listRuns: (filter?: {
      readonly experiment?: string
      readonly limit?: number
    }) => Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
    /** A page of runs with their tags and the metrics asked for, and the total that match. */
    readonly queryRuns: (query: RunQuery) => Effect.Effect<RunPage, StoreError>
  }
>() {}
