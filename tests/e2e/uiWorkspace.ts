import * as fs from "node:fs"
import * as path from "node:path"
import { cli, root } from "./helpers.js"

/** A column name that would run script if a page put it in HTML unescaped. */
export const HOSTILE_COLUMN = `<img src=x onerror="document.title='pwned-column'">`
export const HOSTILE_REASON = `<img src=x onerror="document.title='pwned-reason'"> v2 misclassifies versicolor on the new batch`

export interface UiWorkspace {
  readonly dir: string
  readonly workspace: string
  readonly config: string
  /** run ids in the order they ran */
  readonly runs: ReadonlyArray<string>
  readonly log: ReadonlyArray<string>
}

const must = (args: ReadonlyArray<string>, codes: ReadonlyArray<number> = [0]) => {
  const r = cli(args)
  if (!codes.includes(r.code))
    throw new Error(`driftgate ${args.join(" ")} exited ${r.code}\n${r.stderr}\n${r.stdout.slice(0, 2000)}`)
  return r
}

/**
 * Builds a workspace the way a user does, through the built CLI only: iris with one column renamed to
 * a hostile string, two runs with different params (both approved), a rollback to version 1 whose
 * reason is hostile too, and two drift checks (a shifted batch, then an unshifted one).
 */
export const buildUiWorkspace = (dir: string): UiWorkspace => {
  const data = path.join(dir, "data")
  const dataset = path.join(data, "iris_ui")
  fs.mkdirSync(dataset, { recursive: true })
  const csv = fs.readFileSync(path.join(root, "data/raw/iris/data.csv"), "utf8")
  const lines = csv.trim().split("\n")
  const header = lines[0]!.split(",")
  const quoted = `"${HOSTILE_COLUMN.replace(/"/g, '""')}"`
  fs.writeFileSync(
    path.join(dataset, "data.csv"),
    [[quoted, ...header.slice(1)].join(","), ...lines.slice(1)].join("\n") + "\n"
  )
  const yamlName = JSON.stringify(HOSTILE_COLUMN)
  fs.writeFileSync(
    path.join(dataset, "dataset.yaml"),
    `name: iris_ui
task_type: classification
target: species
features: [${yamlName}, sepal_width_cm, petal_length_cm, petal_width_cm]
schema:
  ${yamlName}: float
  sepal_width_cm: float
  petal_length_cm: float
  petal_width_cm: float
  species: string
constraints:
  min_rows: 100
  label_classes: [setosa, versicolor, virginica]
`
  )
  const configFor = (c: number) => `name: iris-ui
task_type: classification
random_seed: 7
dataset: iris_ui
data_root: ${JSON.stringify(data)}
split: { train: 0.6, val: 0.2, test: 0.2, stratify: true }
preprocessing: { scale: standard, impute: median, encode: one_hot }
training:
  model: logistic_regression
  params: { C: ${c}, max_iter: 200 }
evaluation:
  metrics: [accuracy, f1_weighted, f1_macro, precision, recall, log_loss]
promotion:
  evaluation_split: val
  rules:
    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.6 }
deployment: { registered_model: iris-ui }
drift: { drift_share: 0.5, alert_severity: medium, fail_on_severity: high }
stages: [preprocessing, training, evaluation, promotion, deployment]
`
  const config = path.join(dir, "iris-ui.yaml")
  const config2 = path.join(dir, "iris-ui-c005.yaml")
  fs.writeFileSync(config, configFor(1))
  fs.writeFileSync(config2, configFor(0.05))
  const workspace = path.join(dir, "ws")
  const ws = ["--workspace", workspace]
  const log: string[] = []
  const runs: string[] = []
  for (const c of [config, config2]) {
    const r = must(["run", "--config", c, "--approve", "auto", "--json", ...ws])
    runs.push((JSON.parse(r.stdout) as { run_id: string }).run_id)
    log.push(`run ${c}: ${runs.at(-1)}`)
  }
  must(["rollback", "--config", config, "--version", "1", "--reason", HOSTILE_REASON, "--yes", ...ws])
  log.push("rollback to version 1")
  // a batch whose first column moved by +2 (drift), after one drawn from the same rows (no drift)
  const rows = lines.slice(1).map((l) => l.split(","))
  const batch = (name: string, shift: number) => {
    const file = path.join(dir, name)
    const body = rows
      .filter((_, i) => i % 2 === 0)
      .map((r) => [String(Number(r[0]) + shift), ...r.slice(1, 4)].join(","))
    fs.writeFileSync(file, [[quoted, ...header.slice(1, 4)].join(","), ...body].join("\n") + "\n")
    return file
  }
  must(["drift", "monitor", "--config", config, "--batch", batch("same.csv", 0), ...ws], [0, 2])
  must(["drift", "monitor", "--config", config, "--batch", batch("shifted.csv", 2), ...ws], [0, 2])
  log.push("two drift checks")
  return { dir, workspace, config, runs, log }
}
