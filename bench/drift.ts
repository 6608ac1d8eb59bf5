/**
 * Drift statistics benchmark: driftgate (src/stats) against SciPy on the same data.
 *
 *   npx tsx bench/drift.ts          table
 *   npx tsx bench/drift.ts --json   machine-readable result on stdout
 *
 * Data: 30 numeric columns, 10,000 reference rows vs 10,000 current rows, seeded standard normal;
 * columns 3, 11, 19 and 27 of the current batch are shifted or scaled. Timings are the median of
 * 5 runs after one warm-up run, for the 30 columns together:
 *   ks           ks2samp on raw columns (sorts both samples, as scipy.stats.ks_2samp does)
 *   ks_profile   ks2sampSorted against the profile's sorted reference (sorts the current column only)
 *   ks_band      ks2samp with the current batch one row shorter (n1 != n2: SciPy's exact lattice-band
 *                recursion, O(n1 * window), instead of the O(n) formula for n1 == n2)
 *   wasserstein  wassersteinDistance on raw columns (as scipy.stats.wasserstein_distance)
 *   drift        datasetDrift(profile, batch): the full per-column path (default test: normed
 *                Wasserstein, as the reference has > 1000 rows) plus summaries and verdicts
 *   drift_ks     the same path with the KS test forced for every column
 *   profile      buildProfile on the reference (once per model version)
 *   chisquare    Evidently's chi-square on each column cut into 7 categories (counting included)
 *   ztest        Evidently's two-proportion Z-test on each column's sign (counting included)
 *   psi          PSI on Sturges bins of each raw column (sorting/binning included)
 *   jensenshannon Jensen-Shannon distance on the same bins
 * The SciPy side of the last four is Evidently's formulas written over SciPy/NumPy (as in
 * bench/scipy_reference.py; Evidently itself is not installed here).
 * SciPy runs in /usr/bin/python3 on the same data, passed as a float64 file; values are compared
 * to 1e-9 relative (p-values: or 1e-15 absolute).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { rng } from "../src/domain/random.js"
import { chiSquareCategories } from "../src/stats/chi2.js"
import { datasetDrift } from "../src/stats/datasetDrift.js"
import { jensenShannonNumericSorted } from "../src/stats/jensenShannon.js"
import { psiNumericSorted } from "../src/stats/psi.js"
import { zTestCategories } from "../src/stats/ztest.js"
import { ks2samp, ks2sampSorted, sortedFinite } from "../src/stats/ks.js"
import { buildProfile, sortedReference, type NumericColumnProfile } from "../src/stats/profile.js"
import { wassersteinDistance } from "../src/stats/wasserstein.js"

const COLS = 30
const N_REF = 10_000
const N_CUR = 10_000
const RUNS = 5
const SHIFTED: Record<number, (v: number) => number> = {
  3: (v) => v + 0.1,
  11: (v) => v * 1.15,
  19: (v) => v + 0.03,
  27: (v) => v * 0.9 + 0.05
}
const json = process.argv.includes("--json")

const r = rng(20240601)
const ref: Float64Array[] = []
const cur: Float64Array[] = []
for (let c = 0; c < COLS; c++) ref.push(Float64Array.from({ length: N_REF }, () => r.normal()))
for (let c = 0; c < COLS; c++) {
  const f = SHIFTED[c]
  cur.push(Float64Array.from({ length: N_CUR }, () => (f ? f(r.normal()) : r.normal())))
}
const names = Array.from({ length: COLS }, (_, c) => `x${c}`)
const refTable = new Map(names.map((n, c) => [n, ref[c]]))
const curTable = new Map(names.map((n, c) => [n, cur[c]]))

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
// wall-clock and process CPU time (the latter is steadier on a shared, loaded machine)
const time = <T>(f: () => T): { seconds: number; cpuSeconds: number; value: T } => {
  let value = f() // warm-up
  const ts: number[] = []
  const cs: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    value = f()
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9)
    const c = process.cpuUsage(c0)
    cs.push((c.user + c.system) / 1e6)
  }
  return { seconds: median(ts), cpuSeconds: median(cs), value }
}

const profile = time(() => buildProfile(refTable, { seed: 1 }))
const prof = profile.value
const sortedRefs = prof.columns.map((c) => sortedReference(c as NumericColumnProfile))
const ks = time(() => ref.map((x, c) => ks2samp(x, cur[c])))
const ksProfile = time(() => sortedRefs.map((x, c) => ks2sampSorted(x, sortedFinite(cur[c]))))
// n1 != n2 takes SciPy's lattice-band recursion instead of the O(n) n1 == n2 formula
const ksBand = time(() => ref.map((x, c) => ks2samp(x, cur[c].subarray(0, N_CUR - 1))))
const wd = time(() => ref.map((x, c) => wassersteinDistance(x, cur[c])))
const counts = (x: Float64Array, key: (v: number) => number) => {
  const m = new Map<number, number>()
  for (let i = 0; i < x.length; i++) {
    const k = key(x[i]!)
    m.set(k, (m.get(k) ?? 0) + 1)
  }
  return m
}
const category = (v: number) => Math.max(-3, Math.min(3, Math.floor(v * 2)))
const sign = (v: number) => (v > 0 ? 1 : 0)
const chi = time(() => ref.map((x, c) => chiSquareCategories(counts(x, category), counts(cur[c]!, category))))
const zt = time(() => ref.map((x, c) => zTestCategories(counts(x, sign), counts(cur[c]!, sign))))
const psi = time(() => ref.map((x, c) => psiNumericSorted(sortedFinite(x), sortedFinite(cur[c]!))))
const js = time(() => ref.map((x, c) => jensenShannonNumericSorted(sortedFinite(x), sortedFinite(cur[c]!))))
const drift = time(() => datasetDrift(prof, curTable))
const driftKs = time(() => datasetDrift(prof, curTable, { test: "ks" }))

// ---- SciPy on the same data
const dir = mkdtempSync(join(tmpdir(), "driftgate-bench-"))
const dataPath = join(dir, "data.f64")
const buf = new Float64Array(COLS * (N_REF + N_CUR))
ref.forEach((x, c) => buf.set(x, c * N_REF))
cur.forEach((x, c) => buf.set(x, COLS * N_REF + c * N_CUR))
writeFileSync(dataPath, Buffer.from(buf.buffer))
const script = `
import json, sys, time
import numpy as np, scipy, scipy.stats as st
C, NR, NC, RUNS = ${COLS}, ${N_REF}, ${N_CUR}, ${RUNS}
d = np.fromfile(sys.argv[1], dtype="<f8")
ref = d[:C * NR].reshape(C, NR)
cur = d[C * NR:].reshape(C, NC)
def timed(f):
    v = f()
    ts, cs = [], []
    for _ in range(RUNS):
        c0 = time.process_time(); t0 = time.perf_counter(); v = f()
        ts.append(time.perf_counter() - t0); cs.append(time.process_time() - c0)
    return [float(np.median(ts)), float(np.median(cs))], v
tk, ks = timed(lambda: [st.ks_2samp(ref[c], cur[c]) for c in range(C)])
tb, kb = timed(lambda: [st.ks_2samp(ref[c], cur[c][:NC - 1]) for c in range(C)])
tw, wd = timed(lambda: [st.wasserstein_distance(ref[c], cur[c]) for c in range(C)])
tn, wn = timed(lambda: [st.wasserstein_distance(ref[c], cur[c]) / max(np.std(ref[c]), 0.001) for c in range(C)])
from scipy.spatial import distance
def value_counts(a):
    k, n = np.unique(a, return_counts=True)
    return {float(x): int(m) for x, m in zip(k, n)}
def keys_union(r, c):
    return list(r.keys()) + [k for k in c if k not in r]
def ev_chisquare(a, b):
    rc, cc = value_counts(a), value_counts(b)
    keys = keys_union(rc, cc)
    k_norm = sum(cc.values()) / sum(rc.values())
    r = st.chisquare([cc.get(k, 0) for k in keys], [rc.get(k, 0) * k_norm for k in keys])
    return [float(r.statistic), float(r.pvalue)]
def ev_ztest(ref, cur):
    keys = sorted(set(np.unique(ref).tolist()) | set(np.unique(cur).tolist()))
    r = np.where(ref == keys[0], 0, 1); c = np.where(cur == keys[0], 0, 1)
    n1, n2 = len(r), len(c); p1 = float(sum(r)) / n1; p2 = float(sum(c)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return [float(z), float(2 * (1 - st.norm.cdf(np.abs(z))))]
def ev_binned(a, b, fill):
    bins = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
    rp = np.histogram(a, bins)[0] / len(a); cp = np.histogram(b, bins)[0] / len(b)
    if fill:
        for p in (rp, cp):
            mn = min(p[p != 0]); np.place(p, p == 0, mn / 10 ** 6 if mn <= 0.0001 else 0.0001)
    return rp, cp
def ev_psi(a, b):
    rp, cp = ev_binned(a, b, True)
    s = 0
    for i in range(len(rp)): s += (rp[i] - cp[i]) * np.log(rp[i] / cp[i])
    return float(s)
def ev_js(a, b):
    rp, cp = ev_binned(a, b, False)
    return float(distance.jensenshannon(rp, cp))
cat = lambda x: np.clip(np.floor(x * 2), -3, 3)
tc, chi = timed(lambda: [ev_chisquare(cat(ref[c]), cat(cur[c])) for c in range(C)])
tz, zt = timed(lambda: [ev_ztest((ref[c] > 0).astype(float), (cur[c] > 0).astype(float)) for c in range(C)])
tp, psi = timed(lambda: [ev_psi(ref[c], cur[c]) for c in range(C)])
tj, js = timed(lambda: [ev_js(ref[c], cur[c]) for c in range(C)])
print(json.dumps({"scipy": scipy.__version__, "chisquare_seconds": tc, "chisquare": chi, "ztest_seconds": tz, "ztest": zt,
  "psi_seconds": tp, "psi": psi, "jensenshannon_seconds": tj, "jensenshannon": js, "numpy": np.__version__, "ks_seconds": tk, "wasserstein_seconds": tw,
  "wasserstein_normed_seconds": tn,
  "ks": [[float(k.statistic), float(k.pvalue)] for k in ks],
  "ks_band_seconds": tb, "ks_band": [[float(k.statistic), float(k.pvalue)] for k in kb], "wasserstein": [float(w) for w in wd],
  "wasserstein_normed": [float(w) for w in wn]}))
`
const py = spawnSync("/usr/bin/python3", ["-c", script, dataPath], { encoding: "utf8", maxBuffer: 1 << 26 })
rmSync(dir, { recursive: true, force: true })
if (py.status !== 0) {
  console.error(`SciPy run failed: ${py.stderr}`)
  process.exit(1)
}
const sp = JSON.parse(py.stdout) as {
  scipy: string
  numpy: string
  /** [wall, cpu] */
  ks_seconds: [number, number]
  wasserstein_seconds: [number, number]
  wasserstein_normed_seconds: [number, number]
  ks: Array<[number, number]>
  ks_band_seconds: [number, number]
  ks_band: Array<[number, number]>
  wasserstein: number[]
  wasserstein_normed: number[]
  chisquare_seconds: [number, number]
  chisquare: Array<[number, number]>
  ztest_seconds: [number, number]
  ztest: Array<[number, number]>
  psi_seconds: [number, number]
  psi: number[]
  jensenshannon_seconds: [number, number]
  jensenshannon: number[]
}

// ---- parity
const relErr = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))
let maxKsStat = 0
let maxKsP = 0
let maxWd = 0
let maxWdNormed = 0
let mismatches = 0
const okP = (a: number, b: number) => relErr(a, b) <= 1e-9 || Math.abs(a - b) <= 1e-15
ks.value.forEach((k, c) => {
  const [s, p] = sp.ks[c]
  maxKsStat = Math.max(maxKsStat, relErr(k.statistic, s))
  maxKsP = Math.max(maxKsP, Math.abs(p) > 1e-15 ? relErr(k.pValue, p) : 0)
  if (relErr(k.statistic, s) > 1e-9 || !okP(k.pValue, p)) mismatches++
  const kp = ksProfile.value[c]
  if (kp.statistic !== k.statistic || kp.pValue !== k.pValue) mismatches++
})
ksBand.value.forEach((k, c) => {
  const [s, p] = sp.ks_band[c]
  maxKsStat = Math.max(maxKsStat, relErr(k.statistic, s))
  maxKsP = Math.max(maxKsP, Math.abs(p) > 1e-15 ? relErr(k.pValue, p) : 0)
  if (relErr(k.statistic, s) > 1e-9 || !okP(k.pValue, p)) mismatches++
})
wd.value.forEach((w, c) => {
  maxWd = Math.max(maxWd, relErr(w, sp.wasserstein[c]))
  if (relErr(w, sp.wasserstein[c]) > 1e-9) mismatches++
})
drift.value.columns.forEach((col, c) => {
  maxWdNormed = Math.max(maxWdNormed, relErr(col.statistic!, sp.wasserstein_normed[c]))
  if (relErr(col.statistic!, sp.wasserstein_normed[c]) > 1e-9) mismatches++
})
let maxCategorical = 0
const statAndP = (mine: { statistic: number; pValue: number }, theirs: [number, number]) => {
  maxCategorical = Math.max(maxCategorical, relErr(mine.statistic, theirs[0]))
  if (relErr(mine.statistic, theirs[0]) > 1e-9 || !okP(mine.pValue, theirs[1])) mismatches++
}
chi.value.forEach((v, c) => statAndP(v, sp.chisquare[c]!))
zt.value.forEach((v, c) => statAndP(v, sp.ztest[c]!))
psi.value.forEach((v, c) => {
  maxCategorical = Math.max(maxCategorical, relErr(v, sp.psi[c]!))
  if (relErr(v, sp.psi[c]!) > 1e-9) mismatches++
})
js.value.forEach((v, c) => {
  maxCategorical = Math.max(maxCategorical, relErr(v, sp.jensenshannon[c]!))
  if (relErr(v, sp.jensenshannon[c]!) > 1e-9) mismatches++
})
driftKs.value.columns.forEach((col, c) => {
  if (relErr(col.statistic!, sp.ks[c][0]) > 1e-9 || !okP(col.pValue!, sp.ks[c][1])) mismatches++
})

const result = {
  data: {
    columns: COLS,
    referenceRows: N_REF,
    currentRows: N_CUR,
    shiftedColumns: Object.keys(SHIFTED).map(Number),
    runs: RUNS,
    statistic: "median"
  },
  node: process.version,
  scipy: sp.scipy,
  numpy: sp.numpy,
  seconds: {
    driftgate: {
      ks: ks.seconds,
      ks_profile: ksProfile.seconds,
      ks_band: ksBand.seconds,
      wasserstein: wd.seconds,
      drift: drift.seconds,
      drift_ks: driftKs.seconds,
      profile: profile.seconds,
      chisquare: chi.seconds,
      ztest: zt.seconds,
      psi: psi.seconds,
      jensenshannon: js.seconds
    },
    scipy: {
      chisquare: sp.chisquare_seconds[0],
      ztest: sp.ztest_seconds[0],
      psi: sp.psi_seconds[0],
      jensenshannon: sp.jensenshannon_seconds[0],
      ks: sp.ks_seconds[0],
      ks_band: sp.ks_band_seconds[0],
      wasserstein: sp.wasserstein_seconds[0],
      wasserstein_normed: sp.wasserstein_normed_seconds[0]
    }
  },
  cpuSeconds: {
    driftgate: {
      ks: ks.cpuSeconds,
      ks_profile: ksProfile.cpuSeconds,
      ks_band: ksBand.cpuSeconds,
      wasserstein: wd.cpuSeconds,
      drift: drift.cpuSeconds,
      drift_ks: driftKs.cpuSeconds,
      profile: profile.cpuSeconds,
      chisquare: chi.cpuSeconds,
      ztest: zt.cpuSeconds,
      psi: psi.cpuSeconds,
      jensenshannon: js.cpuSeconds
    },
    scipy: {
      chisquare: sp.chisquare_seconds[1],
      ztest: sp.ztest_seconds[1],
      psi: sp.psi_seconds[1],
      jensenshannon: sp.jensenshannon_seconds[1],
      ks: sp.ks_seconds[1],
      ks_band: sp.ks_band_seconds[1],
      wasserstein: sp.wasserstein_seconds[1],
      wasserstein_normed: sp.wasserstein_normed_seconds[1]
    }
  },
  parity: {
    ok: mismatches === 0,
    mismatches,
    maxRelErr: {
      ksStatistic: maxKsStat,
      ksPValue: maxKsP,
      wasserstein: maxWd,
      wassersteinNormed: maxWdNormed,
      chisquareZtestPsiJs: maxCategorical
    }
  },
  drift: {
    driftedColumns: drift.value.columns.filter((c) => c.drifted).map((c) => c.column),
    driftedColumnsKs: driftKs.value.columns.filter((c) => c.drifted).map((c) => c.column),
    datasetDrift: drift.value.datasetDrift
  }
}

if (json) {
  console.log(JSON.stringify(result, null, 2))
} else {
  const ms = (x: number) => `${(x * 1000).toFixed(1).padStart(7)} ms`
  const ratio = (a: number, b: number) => `${(b / a).toFixed(1)}x`.padStart(6)
  type T = { seconds: number; cpuSeconds: number }
  const row = (label: string, t: T, py?: [number, number]) =>
    console.log(
      label.padEnd(34) +
        ms(t.seconds) +
        (py ? ms(py[0]) + "  " + ratio(t.seconds, py[0]) : "".padEnd(19)) +
        "   " +
        ms(t.cpuSeconds) +
        (py ? ms(py[1]) + "  " + ratio(t.cpuSeconds, py[1]) : "")
    )
  console.log(
    `driftgate vs SciPy ${sp.scipy} — ${COLS} columns, ${N_REF} reference vs ${N_CUR} current rows, median of ${RUNS} (node ${process.version})`
  )
  console.log(
    `${"".padEnd(34)}${"wall: driftgate".padStart(17)}${"SciPy".padStart(10)}  faster   ${"cpu: driftgate".padStart(15)}${"SciPy".padStart(10)}  faster`
  )
  row("KS two-sample (raw columns)", ks, sp.ks_seconds)
  row("KS vs sorted profile", ksProfile, sp.ks_seconds)
  row(`KS ${N_REF} vs ${N_CUR - 1} (exact band path)`, ksBand, sp.ks_band_seconds)
  row("Wasserstein (raw columns)", wd, sp.wasserstein_seconds)
  row("datasetDrift (normed Wasserstein)", drift, sp.wasserstein_normed_seconds)
  row("datasetDrift (KS forced)", driftKs, sp.ks_seconds)
  row("chi-square (7 categories)", chi, sp.chisquare_seconds)
  row("Z-test (sign)", zt, sp.ztest_seconds)
  row("PSI (Sturges bins)", psi, sp.psi_seconds)
  row("Jensen-Shannon (Sturges bins)", js, sp.jensenshannon_seconds)
  row("buildProfile (once per version)", profile)
  console.log(
    `parity: ${mismatches === 0 ? "identical to 1e-9" : `${mismatches} MISMATCHES`} (max rel err: KS D ${maxKsStat.toExponential(1)}, ` +
      `KS p ${maxKsP.toExponential(1)}, W1 ${maxWd.toExponential(1)}, normed W1 ${maxWdNormed.toExponential(1)}, ` +
      `chi2/Z/PSI/JS ${maxCategorical.toExponential(1)})`
  )
  console.log(
    `drifted (default tests): ${result.drift.driftedColumns.join(", ")}; with KS: ${result.drift.driftedColumnsKs.join(", ")}`
  )
}
if (mismatches > 0) process.exitCode = 1
