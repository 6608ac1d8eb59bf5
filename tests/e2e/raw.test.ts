import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { writeShiftedBatch } from "../tools/rawBatch.js"
import { cli, cliAsync, root, tempWorkspace } from "./helpers.js"

const config = path.join(root, "configs/dng_scenes.yaml")
const images = path.join(root, "data/raw/dng_scenes/images")
const classes = fs.readdirSync(images).sort()

describe("raw DNG pipeline through the CLI", () => {
  it("a folder of malformed DNGs → exit 4 naming every file and the tag at fault, quickly", () => {
    const dir = fs.mkdtempSync(path.join(tempWorkspace(), "raw-bad-"))
    const data = path.join(dir, "data", "dng_scenes")
    fs.mkdirSync(data, { recursive: true })
    fs.copyFileSync(path.join(root, "data/raw/dng_scenes/dataset.yaml"), path.join(data, "dataset.yaml"))
    for (const c of classes) fs.cpSync(path.join(images, c), path.join(data, "images", c), { recursive: true })
    const good = fs.readFileSync(path.join(images, "china/china_000.dng"))
    // Truncated inside the pixel data, an IFD offset past the end, and not a TIFF at all.
    fs.writeFileSync(path.join(data, "images/china/china_000.dng"), good.subarray(0, good.length - 2000))
    const bad = Buffer.from(good)
    bad.writeUInt32LE(bad.length + 1000, 4)
    fs.writeFileSync(path.join(data, "images/coffee/coffee_000.dng"), bad)
    fs.writeFileSync(path.join(data, "images/rocket/rocket_000.dng"), "not a camera raw")
    const cfg = path.join(dir, "config.yaml")
    fs.writeFileSync(cfg, fs.readFileSync(config, "utf8") + `data_root: ${JSON.stringify(path.join(dir, "data"))}\n`)
    const started = Date.now()
    const r = cli(["run", "--config", cfg, "--workspace", path.join(dir, "ws"), "--approve", "auto"])
    expect(r.code, r.stderr).toBe(4)
    for (const f of ["china/china_000.dng", "coffee/coffee_000.dng", "rocket/rocket_000.dng"])
      expect(r.stderr).toContain(f)
    expect(r.stderr).toContain("dng_readable")
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(Date.now() - started).toBeLessThan(60_000)
  }, 120_000)

  it("run → ISP sensitivity → promotion; a warmer-WB batch is flagged with warm WB closest, an unperturbed one is not; staged and retrained", async () => {
    const ws = tempWorkspace()
    const run = await cliAsync(["run", "--config", config, "--workspace", ws, "--approve", "auto", "--json"])
    expect(run.code, run.stderr).toBe(0)
    const latest = path.join(ws, "reports/latest")
    const sensitivity = JSON.parse(fs.readFileSync(path.join(latest, "isp_sensitivity_report.json"), "utf8")) as {
      parameters: Array<{ parameter: string; values: unknown[]; severity: string }>
      max_drop: number
    }
    expect(sensitivity.parameters.map((p) => p.parameter)).toEqual([
      "wb_red_scale",
      "wb_blue_scale",
      "gamma",
      "denoise_sigma",
      "sharpen_amount",
      "demosaic"
    ])
    expect(sensitivity.parameters[0]!.values).toHaveLength(3)
    const decision = JSON.parse(fs.readFileSync(path.join(latest, "promotion_decision.json"), "utf8")) as {
      rules: Array<{ id: string; passed: boolean }>
    }
    expect(JSON.stringify(decision)).toContain("isp_robust")

    // Batches: the crops numbered 040–049 of every scene, once as shot and once as if the camera's
    // white balance had moved warm (AsShotNeutral changed in the files themselves).
    const sources = classes.flatMap((c) =>
      fs
        .readdirSync(path.join(images, c))
        .filter((f) => /_04\d\.dng$/.test(f))
        .map((f) => path.join(images, c, f))
    )
    const batches = fs.mkdtempSync(path.join(ws, "batches-"))
    writeShiftedBatch(sources, path.join(batches, "plain"), { red: 1, blue: 1 })
    writeShiftedBatch(sources, path.join(batches, "warm"), { red: 1.25, blue: 0.8 })
    const monitor = (name: string) => {
      const prep = cli([
        "drift",
        "prepare-batch",
        "--config",
        config,
        "--workspace",
        ws,
        "--input-dir",
        path.join(batches, name),
        "--json"
      ])
      expect(prep.code, prep.stderr).toBe(0)
      const batch = (JSON.parse(prep.stdout) as { batch: string }).batch
      return cli(["drift", "monitor", "--config", config, "--workspace", ws, "--batch", batch])
    }
    const plain = monitor("plain")
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toContain("severity none")
    expect(plain.stdout).not.toContain("ISP scenarios")
    const warm = monitor("warm")
    // flagged from the pixel signal (model-independent), whatever the embedding's MMD says
    expect(warm.stdout).toMatch(/pixel Wasserstein per channel: .* \((medium|high)\)/)
    expect(warm.code, warm.stderr).toBe(2)
    expect(warm.stdout).toMatch(/ISP scenarios: closest: warm white balance \(distance 0\.\d{3}, confidence/)
    expect(warm.stdout).toContain("adjust ISP")

    // Retrain on the drift: the warm batch, labelled (class folders), is staged — validated and scored
    // through the ISP like training data, not handed to the 8-bit image codec — and the next run trains
    // on the merged DNGs and judges the candidate on the held-out warm DNGs.
    for (const c of classes)
      writeShiftedBatch(
        sources.filter((s) => path.basename(path.dirname(s)) === c),
        path.join(batches, "warm-labelled", c),
        { red: 1.25, blue: 0.8 }
      )
    const staged = cli([
      "drift",
      "stage-training",
      "--config",
      config,
      "--workspace",
      ws,
      "--batch",
      path.join(batches, "warm-labelled"),
      "--holdout",
      "0.3",
      "--json"
    ])
    expect(staged.code, staged.stderr).toBe(0)
    const staging = JSON.parse(staged.stdout) as {
      batch: { train_rows: number; holdout_rows: number }
      baseline: { metrics: { accuracy: number } }
    }
    expect(staging.batch.train_rows + staging.batch.holdout_rows).toBe(sources.length)
    expect(staging.baseline.metrics.accuracy).toBeGreaterThan(1 / classes.length)
    const retrain = await cliAsync(["run", "--config", config, "--workspace", ws, "--approve", "cancel", "--json"])
    expect([0, 2, 3], retrain.stderr).toContain(retrain.code)
    const evaluation = JSON.parse(fs.readFileSync(path.join(latest, "evaluation_report.json"), "utf8")) as {
      drift_holdout: { rows: number; candidate: { accuracy: number }; production: { accuracy: number } }
    }
    expect(evaluation.drift_holdout.rows).toBe(staging.batch.holdout_rows)
    // the report rounds to 4 decimals; the staging record keeps the full value
    expect(evaluation.drift_holdout.production.accuracy).toBeCloseTo(staging.baseline.metrics.accuracy, 4)
    expect(evaluation.drift_holdout.candidate.accuracy).toBeGreaterThan(1 / classes.length)
  }, 600_000)
})
