"""Reference values for the scikit-learn parity tests in tests/ml (hgb, logistic, tree, linear).

Every value those tests compare against is computed here, from data/raw/<name>/data.csv, with the
dataset, split and parameters each test describes. Tolerances live in the tests, not here.

Run (Debian's python3-sklearn 1.2.1):
  /usr/bin/python3 tests/ml/parity_reference.py > tests/ml/parity_reference.json
`npm run bench -- parity` (bench/parity.mjs) reruns it and diffs against the committed JSON.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def load(name, target, classification):
    df = pd.read_csv(os.path.join(ROOT, "data", "raw", name, "data.csv"))
    x = df.drop(columns=[target]).to_numpy(dtype=np.float64)
    if classification:
        classes = sorted(df[target].astype(str).unique())  # class index = position among sorted labels
        y = np.array([classes.index(v) for v in df[target].astype(str)], dtype=np.float64)
    else:
        y = df[target].to_numpy(dtype=np.float64)
    return x, y


bc_x, bc_y = load("breast_cancer", "diagnosis", True)  # sorted: benign=0, malignant=1
cal_x, cal_y = load("california_housing", "MedHouseVal", False)
iris_x, iris_y = load("iris", "species", True)
floats = lambda a: [float(v) for v in a]


def hgb():
    out = {}
    # binary: train = rows with i % 3 != 0, test = i % 3 == 0; max_iter=20, no early stopping
    idx = np.arange(len(bc_y))
    tr, te = idx[idx % 3 != 0], idx[idx % 3 == 0]
    m = HistGradientBoostingClassifier(early_stopping=False, max_iter=20, random_state=0).fit(bc_x[tr], bc_y[tr])
    out["binary_breast_cancer"] = {
        "baseline": float(m._baseline_prediction.ravel()[0]),
        "proba1_first5": floats(m.predict_proba(bc_x[te])[:5, 1]),
        "accuracy": float(np.mean(m.predict(bc_x[te]) == bc_y[te])),
    }
    # regression: MedInc NaN on every 7th row; train rows 0..1999, predict rows 2000..2499; max_iter=30
    x = cal_x.copy()
    x[::7, 0] = np.nan
    m = HistGradientBoostingRegressor(early_stopping=False, max_iter=30, random_state=0).fit(x[:2000], cal_y[:2000])
    pred = m.predict(x[2000:2500])
    out["regression_california_nan"] = {
        "baseline": float(m._baseline_prediction.ravel()[0]),
        "pred_first5": floats(pred[:5]),
        "pred_sum": float(pred.sum()),
    }
    # multiclass: train = even rows, test = odd rows; max_iter=10, min_samples_leaf=5
    idx = np.arange(150)
    tr, te = idx[idx % 2 == 0], idx[idx % 2 == 1]
    m = HistGradientBoostingClassifier(early_stopping=False, max_iter=10, min_samples_leaf=5, random_state=0).fit(
        iris_x[tr], iris_y[tr]
    )
    proba = m.predict_proba(iris_x[te])
    out["multiclass_iris"] = {
        "proba_rows": {str(r): floats(proba[r]) for r in (0, 30, 60)},
        "accuracy": float(np.mean(m.predict(iris_x[te]) == iris_y[te])),
    }
    return out


def logistic():
    out = {}
    m = LogisticRegression().fit(StandardScaler().fit_transform(bc_x), bc_y)
    out["binary_breast_cancer"] = {"coef": floats(m.coef_[0]), "intercept": float(m.intercept_[0])}
    xs = StandardScaler().fit_transform(iris_x)
    m = LogisticRegression().fit(xs, iris_y)
    out["multinomial_iris"] = {
        "coef": [floats(r) for r in m.coef_],
        "intercept": floats(m.intercept_),
        "train_accuracy": float(np.mean(m.predict(xs) == iris_y)),
    }
    return out


def tree():
    out = {"breast_cancer_root": {}}
    for criterion in ("gini", "entropy"):
        t = DecisionTreeClassifier(criterion=criterion, random_state=0).fit(bc_x, bc_y).tree_
        out["breast_cancer_root"][criterion] = {
            "node_count": int(t.node_count),
            "threshold": float(t.threshold[0]),
            "feature": int(t.feature[0]),
        }
    t = DecisionTreeRegressor(max_depth=6, random_state=0).fit(cal_x, cal_y).tree_
    out["california_depth6"] = {
        "node_count": int(t.node_count),
        # scikit-learn marks a leaf's feature -2; the TypeScript tree uses -1
        "feature_first7": [int(f) if f >= 0 else -1 for f in t.feature[:7]],
        "threshold_first6": floats(t.threshold[:6]),
    }
    return out


def linear():
    m = LinearRegression().fit(cal_x, cal_y)
    return {"california_ols": {"coef": floats(m.coef_), "intercept": float(m.intercept_)}}


json.dump(
    {"sklearn": sklearn.__version__, "hgb": hgb(), "logistic": logistic(), "tree": tree(), "linear": linear()},
    sys.stdout,
    indent=2,
)
sys.stdout.write("\n")
