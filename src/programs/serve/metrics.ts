import type * as Prom from "prom-client"

/** The service's Prometheus metrics, on a registry of their own (never prom-client's global one). */
export interface ServeMetrics {
  readonly registry: Prom.Registry
  /** One predict request answered: status code and latency in seconds. */
  readonly observe: (model: string, version: string, status: number, seconds: number) => void
  readonly predictedRows: (model: string, version: string, rows: number) => void
  readonly setModels: (
    models: ReadonlyArray<{ readonly name: string; readonly version: number; readonly stage: string }>
  ) => void
  readonly reload: (outcome: "success" | "failure") => void
  readonly logDropped: (rows: number) => void
  readonly logWritten: (rows: number) => void
  readonly logFailed: (rows: number) => void
  /** One failed append to the prediction log, by error code (ENOSPC, EROFS, …). */
  readonly logError: (code: string) => void
  /** The audit head's seq of the registry version served. */
  readonly registrySeq: (seq: number) => void
  /** How the server learns registry changes now ("listen" or "poll"). */
  readonly followMode: (mode: "listen" | "poll") => void
}

export const makeMetrics = (prom: typeof Prom, queued: () => number): ServeMetrics => {
  const registry = new prom.Registry()
  prom.collectDefaultMetrics({ register: registry })
  const requests = new prom.Counter({
    name: "driftgate_predict_requests_total",
    help: "Prediction requests answered, by model, version and HTTP status",
    labelNames: ["model", "version", "status"] as const,
    registers: [registry]
  })
  const latency = new prom.Histogram({
    name: "driftgate_predict_duration_seconds",
    help: "Prediction request latency (receipt to response), by model, version and HTTP status",
    labelNames: ["model", "version", "status"] as const,
    registers: [registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
  })
  const rows = new prom.Counter({
    name: "driftgate_predicted_rows_total",
    help: "Rows predicted (a batch request counts each row)",
    labelNames: ["model", "version"] as const,
    registers: [registry]
  })
  const loaded = new prom.Gauge({
    name: "driftgate_models_loaded",
    help: "Models in the served set",
    registers: [registry]
  })
  const info = new prom.Gauge({
    name: "driftgate_model_info",
    help: "1 for each served model version",
    labelNames: ["model", "version", "stage"] as const,
    registers: [registry]
  })
  const reloads = new prom.Counter({
    name: "driftgate_reloads_total",
    help: "Model set reloads, by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry]
  })
  const dropped = new prom.Counter({
    name: "driftgate_prediction_log_dropped_rows_total",
    help: "Prediction log rows dropped because the queue was full",
    registers: [registry]
  })
  const written = new prom.Counter({
    name: "driftgate_prediction_log_written_rows_total",
    help: "Prediction log rows written",
    registers: [registry]
  })
  const failed = new prom.Counter({
    name: "driftgate_prediction_log_failed_rows_total",
    help: "Prediction log rows lost to write errors",
    registers: [registry]
  })
  const errors = new prom.Counter({
    name: "driftgate_prediction_log_errors_total",
    help: "Failed appends to the prediction log (a full disk: code ENOSPC), by error code",
    labelNames: ["code"] as const,
    registers: [registry]
  })
  new prom.Gauge({
    name: "driftgate_prediction_log_queue_rows",
    help: "Prediction log rows waiting to be written",
    registers: [registry],
    collect() {
      this.set(queued())
    }
  })
  reloads.inc({ outcome: "success" }, 0)
  reloads.inc({ outcome: "failure" }, 0)
  const headSeq = new prom.Gauge({
    name: "driftgate_registry_head_seq",
    help: "Audit head sequence number of the registry version served",
    registers: [registry]
  })
  const follow = new prom.Gauge({
    name: "driftgate_registry_follow_mode",
    help: "1 for how registry changes are learnt now (listen: PostgreSQL notifications; poll: reading the head)",
    labelNames: ["mode"] as const,
    registers: [registry]
  })

  // labelled children cached by label values: prom-client hashes the labels on every call otherwise
  type Child = {
    readonly count: Prom.Counter.Internal
    readonly time: Prom.Histogram.Internal<"model" | "version" | "status">
  }
  const children = new Map<string, Child>()
  const rowChildren = new Map<string, Prom.Counter.Internal>()
  return {
    registry,
    observe: (model, version, status, seconds) => {
      const key = `${model}\u0000${version}\u0000${status}`
      let c = children.get(key)
      if (c === undefined) {
        const labels = { model, version, status: String(status) }
        c = { count: requests.labels(labels), time: latency.labels(labels) }
        children.set(key, c)
      }
      c.count.inc()
      c.time.observe(seconds)
    },
    predictedRows: (model, version, n) => {
      const key = `${model}\u0000${version}`
      let c = rowChildren.get(key)
      if (c === undefined) rowChildren.set(key, (c = rows.labels({ model, version })))
      c.inc(n)
    },
    setModels: (models) => {
      loaded.set(models.length)
      info.reset()
      for (const m of models) info.set({ model: m.name, version: String(m.version), stage: m.stage }, 1)
    },
    reload: (outcome) => reloads.inc({ outcome }),
    logDropped: (n) => dropped.inc(n),
    logWritten: (n) => written.inc(n),
    logFailed: (n) => failed.inc(n),
    logError: (code) => errors.inc({ code }),
    registrySeq: (seq) => headSeq.set(seq),
    followMode: (mode) => {
      follow.set({ mode }, 1)
      follow.set({ mode: mode === "listen" ? "poll" : "listen" }, 0)
    }
  }
}
