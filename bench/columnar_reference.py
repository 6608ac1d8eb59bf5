"""pandas + scikit-learn doing what bench/columnar.ts does: read_csv + SHA-256 of the bytes, write
and read the table back (pickle: Debian has no pyarrow for to_feather), SimpleImputer(median) +
StandardScaler on the features. Prints one JSON line like the TypeScript side."""
import hashlib
import json
import os
import pickle
import resource
import sys
import time

import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

path = sys.argv[1]
times = {}
t0 = time.perf_counter()
h = hashlib.sha256()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 22), b""):
        h.update(chunk)
df = pd.read_csv(path)
times["read_csv+sha256"] = time.perf_counter() - t0
t0 = time.perf_counter()
with open(path + ".pkl", "wb") as f:
    pickle.dump(df, f, protocol=5)
times["write_pickle"] = time.perf_counter() - t0
t0 = time.perf_counter()
with open(path + ".pkl", "rb") as f:
    pickle.load(f)
times["read_pickle"] = time.perf_counter() - t0
os.remove(path + ".pkl")
t0 = time.perf_counter()
x = make_pipeline(SimpleImputer(strategy="median"), StandardScaler()).fit_transform(df.iloc[:, :-1])
times["impute+scale"] = time.perf_counter() - t0
print(
    json.dumps(
        {
            "tool": "pandas+sklearn",
            "rows": len(df),
            "sha256": h.hexdigest()[:12],
            "times": {k: round(v, 2) for k, v in times.items()},
            "total_s": round(sum(times.values()), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "check": round(float(x[0, 0]), 6),
        }
    )
)
