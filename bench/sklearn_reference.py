#!/usr/bin/python3
"""scikit-learn reference figures for bench/ml.ts.

Run with Debian's python: /usr/bin/python3 bench/sklearn_reference.py [--update-reference]
Writes bench/out/sklearn_reference.json (or, with --update-reference only, the committed
bench/sklearn_reference.json): for each dataset the exact train/test row indices used
(so the TypeScript bench fits on the same rows), the quality figures and the fit+predict time
(median of 5 after one warm-up; forests single-threaded, n_jobs=None). The machine's load average is
recorded too: on a shared machine, timings (HistGradientBoosting's OpenMP threads above all) swing with it.
"""
import json
import os
import platform
import statistics
import sys
import time

import csv

import numpy as np
import scipy
import sklearn
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPEATS = 5


def timed(make, x_tr, y_tr, x_te):
    """Fit+predict REPEATS times after a warm-up; returns (timing figures, last model, its predictions)."""
    make().fit(x_tr, y_tr).predict(x_te)  # warm-up
    totals, fits, predicts = [], [], []
    model = pred = None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        model = make().fit(x_tr, y_tr)
        t1 = time.perf_counter()
        pred = model.predict(x_te)
        t2 = time.perf_counter()
        fits.append(t1 - t0)
        predicts.append(t2 - t1)
        totals.append(t2 - t0)
    figures = {"seconds": statistics.median(totals), "seconds_min": min(totals),
               "fit_seconds": statistics.median(fits), "predict_seconds": statistics.median(predicts)}
    return figures, model, pred


def one_thread(make, x_tr, y_tr, x_te):
    """The same timing with OpenMP limited to one thread (like the TypeScript learners; steadier on a busy machine)."""
    with threadpool_limits(limits=1):
        t, _, _ = timed(make, x_tr, y_tr, x_te)
    return {"seconds_1thread": t["seconds"], "seconds_1thread_min": t["seconds_min"]}


def load(name, target):
    with open(os.path.join(ROOT, "data", "raw", name, "data.csv"), newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    t = header.index(target)
    names = [h for j, h in enumerate(header) if j != t]
    x = np.array([[float(v) for j, v in enumerate(r) if j != t] for r in body], dtype=np.float64)
    y_col = [r[t] for r in body]
    try:
        y = np.array([float(v) for v in y_col])
    except ValueError:
        y = np.array(y_col)
    return x, y, names


def breast_cancer():
    x, y_raw, names = load("breast_cancer", "diagnosis")
    classes = sorted(set(y_raw))
    y = np.array([classes.index(v) for v in y_raw])
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.3, stratify=y, random_state=42)
    x_tr, x_te, y_tr, y_te = x[tr], x[te], y[tr], y[te]
    out = {"target": "diagnosis", "classes": classes, "features": names,
           "train_idx": tr.tolist(), "test_idx": te.tolist()}

    t, _, pred = timed(lambda: RandomForestClassifier(n_estimators=100, random_state=42), x_tr, y_tr, x_te)
    out["random_forest"] = {"accuracy": accuracy_score(y_te, pred), **t}

    t, _, pred = timed(lambda: make_pipeline(StandardScaler(), LogisticRegression()), x_tr, y_tr, x_te)
    out["logistic_regression"] = {"accuracy": accuracy_score(y_te, pred), **t}

    t, _, pred = timed(lambda: HistGradientBoostingClassifier(random_state=42), x_tr, y_tr, x_te)
    out["hist_gradient_boosting"] = {"accuracy": accuracy_score(y_te, pred), **t, **one_thread(
        lambda: HistGradientBoostingClassifier(random_state=42), x_tr, y_tr, x_te)}
    return out


def california_housing():
    x, y, names = load("california_housing", "MedHouseVal")
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.2, random_state=42)
    x_tr, x_te, y_tr, y_te = x[tr], x[te], y[tr], y[te]
    out = {"target": "MedHouseVal", "features": names, "train_idx": tr.tolist(), "test_idx": te.tolist()}

    t, m, pred = timed(LinearRegression, x_tr, y_tr, x_te)
    out["linear_regression"] = {"r2": r2_score(y_te, pred), "coef": m.coef_.tolist(), "intercept": float(m.intercept_), **t}

    t, m, pred = timed(lambda: Ridge(alpha=1.0), x_tr, y_tr, x_te)
    out["ridge"] = {"r2": r2_score(y_te, pred), "coef": m.coef_.tolist(), "intercept": float(m.intercept_), **t}

    t, _, pred = timed(lambda: HistGradientBoostingRegressor(random_state=42), x_tr, y_tr, x_te)
    out["hist_gradient_boosting"] = {"r2": r2_score(y_te, pred), "mae": mean_absolute_error(y_te, pred), **t, **one_thread(
        lambda: HistGradientBoostingRegressor(random_state=42), x_tr, y_tr, x_te)}

    t, _, pred = timed(lambda: RandomForestRegressor(n_estimators=100, random_state=42), x_tr, y_tr, x_te)
    out["random_forest"] = {"r2": r2_score(y_te, pred), "mae": mean_absolute_error(y_te, pred), **t}
    return out


def output_path(argv):
    """Fresh figures go to bench/out/; the committed reference is rewritten only on --update-reference."""
    if "--update-reference" in argv:
        return os.path.join(ROOT, "bench", "sklearn_reference.json")
    return os.path.join(ROOT, "bench", "out", "sklearn_reference.json")


def main():
    result = {
        "generated_by": "bench/sklearn_reference.py",
        "sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "repeats": REPEATS,
        "timing": "seconds: median fit+predict seconds of 5 runs after a warm-up (seconds_min: the fastest run); "
                  "forests with n_jobs=None (1 thread); HistGradientBoosting with its default OpenMP threads "
                  "(seconds_1thread: limited to one thread)",
        "load_average": os.getloadavg(),
        "datasets": {"breast_cancer": breast_cancer(), "california_housing": california_housing()},
    }
    path = output_path(sys.argv[1:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(result, fh, indent=1)
        fh.write("\n")
    for ds, d in result["datasets"].items():
        for k, v in d.items():
            if isinstance(v, dict):
                print(ds, k, {kk: vv for kk, vv in v.items() if kk not in ("coef",)})
    print(f"written to {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
