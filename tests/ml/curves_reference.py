"""Reference values for tests/ml/curves.test.ts and tests/programs/evaluationDiagnostics.test.ts:
scikit-learn's confusion_matrix, precision_recall_fscore_support, roc_curve/auc,
precision_recall_curve/average_precision_score and calibration_curve on seeded scores (with ties and
probabilities exactly on bin edges), a multiclass case, and regression residuals.

Run: /usr/bin/python3 tests/ml/curves_reference.py > tests/ml/curves_reference.json
"""
import json

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    auc,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_curve,
)

rng = np.random.default_rng(16)


def binary_case(name, n, decimals):
    y = (rng.random(n) < 0.4).astype(int)
    # Scores that separate the classes imperfectly; rounding makes ties (and values on bin edges).
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1).round(decimals)
    fpr, tpr, thr = roc_curve(y, s)
    prec, rec, pthr = precision_recall_curve(y, s)
    cal_true, cal_pred = calibration_curve(y, s, n_bins=10)
    # Bin counts by counting directly (numpy.searchsorted side="left" on the inner edges).
    edges = np.linspace(0, 1, 11)
    ids = np.searchsorted(edges[1:-1], s)
    counts = [int(c) for c in np.bincount(ids, minlength=10) if c > 0]
    pred = (s >= 0.5).astype(int)
    p, r, f, sup = precision_recall_fscore_support(y, pred, zero_division=0)
    return {
        "name": name,
        "y_true": y.tolist(),
        "score": s.tolist(),
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr.tolist(), "auc": auc(fpr, tpr)},
        "pr": {
            "precision": prec.tolist(),
            "recall": rec.tolist(),
            "thresholds": pthr.tolist(),
            "average_precision": average_precision_score(y, s),
        },
        "calibration": {"prob_true": cal_true.tolist(), "prob_pred": cal_pred.tolist(), "count": counts},
        "y_pred": pred.tolist(),
        "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "per_class": {"precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": sup.tolist()},
    }


def multiclass_case(n, k):
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    # Class k-1 is never predicted on purpose here: zero_division=0 for its precision.
    pred = np.where(pred == k - 1, 0, pred)
    p, r, f, sup = precision_recall_fscore_support(y, pred, labels=list(range(k)), zero_division=0)
    correct = (pred == y).astype(int)
    confidence = proba[np.arange(n), pred]
    cal_true, cal_pred = calibration_curve(correct, confidence, n_bins=10)
    return {
        "name": "multiclass",
        "classes": k,
        "y_true": y.tolist(),
        "y_pred": pred.tolist(),
        "proba": proba.round(6).reshape(-1).tolist(),
        "confusion_matrix": confusion_matrix(y, pred, labels=list(range(k))).tolist(),
        "per_class": {"precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": sup.tolist()},
        # Top-label reliability: confidence of the predicted class against whether it was right.
        "calibration": {"prob_true": cal_true.tolist(), "prob_pred": cal_pred.tolist()},
    }


cases = [binary_case("ties", 60, 1), binary_case("fine", 200, 3), binary_case("edges", 37, 2)]
mc = multiclass_case(90, 4)
# The multiclass calibration reads the rounded probabilities the test sees.
proba = np.array(mc["proba"]).reshape(-1, 4)
pred = np.array(mc["y_pred"])
conf = proba[np.arange(len(pred)), pred]
ct, cp = calibration_curve((pred == np.array(mc["y_true"])).astype(int), conf, n_bins=10)
mc["calibration"] = {"prob_true": ct.tolist(), "prob_pred": cp.tolist()}

y_reg = rng.normal(10, 3, 50)
p_reg = y_reg + rng.normal(0, 1, 50)
print(
    json.dumps(
        {
            "sklearn": sklearn.__version__,
            "binary": cases,
            "multiclass": mc,
            "regression": {
                "y_true": y_reg.tolist(),
                "y_pred": p_reg.tolist(),
                "residuals": (y_reg - p_reg).tolist(),
            },
        },
        indent=1,
    )
)
