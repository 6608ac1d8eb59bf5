"""The SciPy + pandas peer of `driftgate drift monitor --batch FILE` on a large batch (issue #10 item 5).

Reads the batch with pandas (SHA-256 of its bytes too, as driftgate versions a batch), and for every
numeric feature compares it with a 10,000-value seeded sample of the training column (what driftgate's
reference profile keeps) by scipy.stats.wasserstein_distance (normed by the reference's std, driftgate's
default test for a large reference) and scipy.stats.ks_2samp. Prints wall time per step, the process CPU time
(user + system) of the batch work, and peak RSS as JSON.

    /usr/bin/python3 bench/drift_scale_reference.py TRAIN.csv BATCH.csv TARGET
"""
import hashlib
import json
import resource
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

train_file, batch_file, target = sys.argv[1], sys.argv[2], sys.argv[3]


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


steps = {"import": time.perf_counter() - t0}
t = time.perf_counter()
train = pd.read_csv(train_file)
rng = np.random.default_rng(0)
reference = {c: np.sort(rng.choice(train[c].dropna().to_numpy(), 10_000, replace=False)) for c in train.columns if c != target}
std = {c: float(train[c].std(ddof=0)) for c in reference}
del train
steps["reference_profile"] = time.perf_counter() - t
cpu0 = cpu_s()
t = time.perf_counter()
with open(batch_file, "rb") as f:
    sha = hashlib.sha256(f.read()).hexdigest()
steps["sha256"] = time.perf_counter() - t
t = time.perf_counter()
batch = pd.read_csv(batch_file)
steps["read_csv"] = time.perf_counter() - t
t = time.perf_counter()
out = {}
for c, ref in reference.items():
    cur = batch[c].dropna().to_numpy()
    out[c] = {
        "wasserstein_normed": stats.wasserstein_distance(ref, cur) / (std[c] or 1.0),
        "ks_p": float(stats.ks_2samp(ref, cur).pvalue),
    }
steps["ks_wasserstein"] = time.perf_counter() - t
drift_cpu = cpu_s() - cpu0
print(
    json.dumps(
        {
            "batch": batch_file,
            "rows": len(batch),
            "sha256": sha,
            "steps_s": steps,
            "drift_work_s": steps["sha256"] + steps["read_csv"] + steps["ks_wasserstein"],
            "drift_work_cpu_s": drift_cpu,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "columns": out,
        }
    )
)
