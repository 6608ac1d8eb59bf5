import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cli, root, tempWorkspace } from "./helpers.js"

/** The bad-input corpus (tests/fixtures/make_bad_corpus.py): exit code and what the message must name. */
const cases: ReadonlyArray<readonly [string, number, ReadonlyArray<string | RegExp>]> = [
  ["truncated_rows", 4, ["column_count", "lines 7, 15", "data.csv"]],
  ["wrong_dtype", 4, ["column sepal_length_cm", "dtype", '"five"', "line 5"]],
  [
    "nan_inf_strings",
    4,
    ["column sepal_length_cm", "column sepal_width_cm", "column petal_length_cm", '"NaN"', '"inf"', '"-Infinity"']
  ],
  ["empty_file", 4, ["empty file", "data.csv"]],
  ["header_only", 4, ["header only"]],
  ["duplicate_header", 4, ["column sepal_length_cm", "duplicate_header"]],
  ["missing_column", 4, ["column petal_width_cm", "column_present"]],
  [
    "contract_all_at_once",
    4,
    ["4 violation(s)", "min_rows", "max_null_fraction", "label_classes", "unknown_flower", "range"]
  ],
  ["unknown_config_key", 64, ["config.yaml", `unknown key "trainning"`, `did you mean "training"`]],
  ["unknown_param", 64, ["config.yaml", `"training.params.n_estimatorz"`]],
  ["yaml_syntax_error", 64, ["config.yaml", /YAML syntax error at line \d+, column \d+/]],
  ["path_traversal", 64, ["config.yaml", `"dataset"`, "no path separators"]],
  ["missing_dataset_yaml", 64, ["dataset.yaml", "--target", "--task"]],
  ["bad_dataset_yaml", 64, ["dataset.yaml", `unknown key "targte"`]],
  ["split_sum", 64, ["config.yaml", "sum to 1"]]
]

describe("bad-input corpus through the CLI", () => {
  const ws = tempWorkspace()
  for (const [name, code, needles] of cases) {
    it(`${name} → exit ${code} with a one-sentence message`, () => {
      const r = cli(["run", "--config", path.join(root, "tests/fixtures/bad", name, "config.yaml"), "--workspace", ws])
      expect(r.code, r.stderr).toBe(code)
      const lines = r.stderr.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^driftgate: /)
      for (const n of needles)
        expect(lines[0]).toMatch(typeof n === "string" ? new RegExp(n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : n)
      expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace without --verbose
    })
  }

  it("valid but unusual CSVs (BOM + CRLF, quoted commas and newlines) pass", () => {
    for (const name of ["bom_crlf_ok", "quoted_commas_ok"]) {
      const r = cli([
        "run",
        "--config",
        path.join(root, "tests/fixtures/bad", name, "config.yaml"),
        "--workspace",
        ws,
        "--json"
      ])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).dataset.rows).toBe(22)
    }
  })

  it("nothing is written to the workspace for data that fails validation", () => {
    const fresh = tempWorkspace()
    cli(["run", "--config", path.join(root, "tests/fixtures/bad/wrong_dtype/config.yaml"), "--workspace", fresh])
    expect(fs.existsSync(path.join(fresh, "datasets"))).toBe(false)
  })

  it("--verbose keeps the documented exit code", () => {
    const r = cli([
      "run",
      "--config",
      path.join(root, "tests/fixtures/bad/unknown_config_key/config.yaml"),
      "--verbose"
    ])
    expect(r.code).toBe(64)
  })

  it("an unknown flag is bad usage (64)", () => {
    expect(cli(["run", "--config", "configs/iris.yaml", "--no-such-flag"]).code).toBe(64)
  })
})

describe("image datasets through the CLI", () => {
  it("a corrupt PNG and too few images per class → exit 4 naming the file and the class", () => {
    const dir = tempWorkspace()
    fs.cpSync(path.join(root, "data/raw/fashion_mnist"), path.join(dir, "fashion_mnist"), { recursive: true })
    const bag = path.join(dir, "fashion_mnist/images/bag")
    const files = fs.readdirSync(bag).sort()
    fs.writeFileSync(path.join(bag, files[0]!), fs.readFileSync(path.join(bag, files[0]!)).subarray(0, 60))
    for (const f of files.slice(1, 80)) fs.rmSync(path.join(bag, f))
    const config = path.join(dir, "config.yaml")
    fs.writeFileSync(
      config,
      fs
        .readFileSync(path.join(root, "configs/fashion_mnist.yaml"), "utf8")
        .replace("dataset: fashion_mnist", `data_root: ${dir}\ndataset: fashion_mnist`)
    )
    const r = cli(["run", "--config", config, "--workspace", tempWorkspace()])
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toContain(`bag/${files[0]}`)
    expect(r.stderr).toContain("min_images_per_class")
  })
})
