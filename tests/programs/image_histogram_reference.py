"""Reference values for tests/programs/imageDriftHtml.test.ts: numpy.histogram's per-channel counts
(32 bins on [0, 1], the last bin closed) of seeded float32 NHWC images, with values exactly on bin
edges, 0 and 1.

Run: /usr/bin/python3 tests/programs/image_histogram_reference.py > tests/programs/image_histogram_reference.json
"""
import json

import numpy as np

rng = np.random.default_rng(16)


def batch(n, h, w, c, shift):
    x = np.clip(rng.beta(2, 5, (n, h, w, c)) + shift, 0, 1).astype(np.float32)
    flat = x.reshape(-1)
    # Edges of the bins, and both ends of the range.
    flat[:8] = np.array([0, 1, 0.5, 0.03125, 0.96875, 1, 0, 0.25], dtype=np.float32)
    return x


out = {"numpy": np.__version__, "cases": []}
for name, shape, shift in [("reference", (4, 6, 5, 3), 0.0), ("batch", (3, 6, 5, 3), 0.2), ("grey", (2, 7, 7, 1), 0.1)]:
    x = batch(*shape, shift)
    counts = [np.histogram(x[..., ch].astype(np.float64), bins=32, range=(0, 1))[0].tolist() for ch in range(shape[3])]
    out["cases"].append({"name": name, "shape": list(shape), "data": x.reshape(-1).tolist(), "counts": counts})
print(json.dumps(out))
