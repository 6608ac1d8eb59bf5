"""Reference values for tests/ml/binaryMetrics.test.ts: scikit-learn's precision_score/recall_score
on binary string labels, by default (pos_label = the second of the sorted labels, what LabelEncoder
calls class 1) and with a declared positive class, beside the weighted averages.

Run: /usr/bin/python3 tests/ml/binary_metrics_reference.py > tests/ml/binary_metrics_reference.json
"""
import json

import numpy as np
import sklearn
from sklearn.metrics import precision_score, recall_score

rng = np.random.default_rng(12)
cases = []
for name, labels, n in [("yes_no", ["yes", "no"], 40), ("malignant_benign", ["malignant", "benign"], 57)]:
    y_true = rng.choice(labels, size=n, p=[0.35, 0.65])
    flip = rng.random(n) < 0.3
    y_pred = np.where(flip, np.where(y_true == labels[0], labels[1], labels[0]), y_true)
    positive = sorted(labels)[1]
    other = sorted(labels)[0]
    cases.append(
        {
            "name": name,
            # The order dataset.yaml's label_classes lists them in (not sorted, on purpose).
            "label_classes": labels,
            "y_true": y_true.tolist(),
            "y_pred": y_pred.tolist(),
            "default_positive": positive,
            "precision": precision_score(y_true, y_pred, pos_label=positive, zero_division=0),
            "recall": recall_score(y_true, y_pred, pos_label=positive, zero_division=0),
            "declared_positive": other,
            "precision_declared": precision_score(y_true, y_pred, pos_label=other, zero_division=0),
            "recall_declared": recall_score(y_true, y_pred, pos_label=other, zero_division=0),
            "precision_weighted": precision_score(y_true, y_pred, average="weighted", zero_division=0),
            "recall_weighted": recall_score(y_true, y_pred, average="weighted", zero_division=0),
        }
    )
print(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1))
