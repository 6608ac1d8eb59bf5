#!/usr/bin/python3
"""pandas + scikit-learn peer for driftgate's scale benchmarks (Debian's python3-pandas / python3-sklearn).

Run mode (default): what `driftgate run` does on a regression CSV, timed step by step:
    /usr/bin/python3 bench/scale_reference.py bench/out/california_1m.csv [--target MedHouseVal] [--seed 42]
  read the CSV (pandas), SHA-256 of the file bytes, split 80/20 (seeded), HistGradientBoostingRegressor(max_iter=100)
  fit, predict the held-out rows, R². Prints one JSON object: wall seconds, peak RSS, per-step seconds.

Learner mode: the same rows as bench/ml.ts's size rows (the file is shuffled when generated, so the first 80% are a
random training set), one fit and one batch predict, for alternating timings against driftgate:
    /usr/bin/python3 bench/scale_reference.py --learner hgb|rf bench/out/california_1m.csv
  train = first 80% of the rows, predict = the next 100,000 rows (features: every column but the last).

Run it with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (bench/ml.ts does): they are this machine's settings for other
tools and are not what a user's scikit-learn runs with.
"""

import argparse
import hashlib
import json
import os
import resource
import sys
import time

T0 = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

IMPORT_S = time.perf_counter() - T0


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_mode(path: str, target: str, seed: int) -> dict:
    steps = {"import": IMPORT_S}
    t = time.perf_counter()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    steps["sha256"] = time.perf_counter() - t
    t = time.perf_counter()
    df = pd.read_csv(path)
    steps["read_csv"] = time.perf_counter() - t
    t = time.perf_counter()
    y = df[target].to_numpy(dtype=np.float64)
    X = df.drop(columns=[target]).to_numpy(dtype=np.float64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
    steps["split"] = time.perf_counter() - t
    t = time.perf_counter()
    model = HistGradientBoostingRegressor(max_iter=100, random_state=seed).fit(X_train, y_train)
    steps["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = model.predict(X_test)
    steps["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    r2 = float(r2_score(y_test, pred))
    steps["r2"] = time.perf_counter() - t
    return {
        "mode": "run",
        "file": path,
        "sha256": h.hexdigest(),
        "rows": int(len(df)),
        "train_rows": int(len(y_train)),
        "n_iter": int(model.n_iter_),
        "r2": r2,
        "wall_s": time.perf_counter() - T0,
        "peak_rss_mb": peak_rss_mb(),
        "steps_s": steps,
    }


def learner_mode(path: str, learner: str, seed: int, predict_rows: int) -> dict:
    d = pd.read_csv(path).to_numpy(dtype=np.float64)
    n_train = round(d.shape[0] * 0.8)
    X, y = d[:n_train, :-1], d[:n_train, -1]
    Xp, yp = d[n_train : n_train + predict_rows, :-1], d[n_train : n_train + predict_rows, -1]
    if learner == "hgb":
        model = HistGradientBoostingRegressor(max_iter=100, random_state=seed)
    elif learner == "rf":
        model = RandomForestRegressor(n_estimators=10, max_depth=12, n_jobs=2, random_state=seed)
    else:
        raise SystemExit(f"unknown learner {learner} (hgb, rf)")
    t, c = time.perf_counter(), time.process_time()
    model.fit(X, y)
    fit_s, fit_cpu_s = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    pred = model.predict(Xp)
    predict_s, predict_cpu_s = time.perf_counter() - t, time.process_time() - c
    out = {
        "mode": "learner",
        "learner": learner,
        "train_rows": int(n_train),
        "predict_rows": int(len(yp)),
        "fit_s": fit_s,
        "predict_s": predict_s,
        # CPU seconds of every thread (OpenMP's included): comparable across machine loads, unlike wall time
        "fit_cpu_s": fit_cpu_s,
        "predict_cpu_s": predict_cpu_s,
        "r2": float(r2_score(yp, pred)),
        "peak_rss_mb": peak_rss_mb(),
    }
    if learner == "hgb":
        out["n_iter"] = int(model.n_iter_)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--target", default="MedHouseVal")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--learner", choices=["hgb", "rf"])
    ap.add_argument("--predict-rows", type=int, default=100_000)
    a = ap.parse_args()
    out = learner_mode(a.csv, a.learner, a.seed, a.predict_rows) if a.learner else run_mode(a.csv, a.target, a.seed)
    out["sklearn"] = sklearn.__version__
    out["pandas"] = pd.__version__
    out["cpus"] = os.cpu_count()
    out["load_average"] = list(os.getloadavg())
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
