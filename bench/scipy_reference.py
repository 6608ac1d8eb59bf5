#!/usr/bin/python3
"""Reference values for driftgate's src/stats, computed with SciPy 1.10 / NumPy.

Run:  /usr/bin/python3 bench/scipy_reference.py   (writes bench/scipy_reference.json)

Evidently is not installed here, so its drift-test formulas (chi-square, Z-test, normed
Wasserstein, PSI, Jensen-Shannon on `get_binned_data`) are re-implemented below with NumPy/SciPy,
following evidently/calculations/stattests/*.py. Everything is generated from one fixed NumPy seed.
Large samples are rounded to 4 decimals to keep the JSON small (this also creates ties).
Non-finite floats are written as the strings "inf", "-inf", "nan" (JSON has no such numbers).
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import scipy.special as sc
import scipy.stats as st
from scipy.spatial import distance
from scipy.stats._stats_py import _compute_outer_prob_inside_method, _compute_prob_outside_square

SEED = 20240601
rng = np.random.default_rng(SEED)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy_reference.json")


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def arr(a):
    return [num(v) for v in np.asarray(a, dtype=float).tolist()]


samples = {}


def sample(name, values, decimals=None):
    v = np.asarray(values, dtype=float)
    if decimals is not None:
        v = np.round(v, decimals)
    samples[name] = arr(v)
    return v


# ---------------------------------------------------------------- kstwo branch (mirror of _kolmogn)
def kstwo_branch(x, n):
    if x <= 0.5 / n:
        return "support-low"
    if x >= 1:
        return "support-high"
    t = n * x
    if t <= 1:
        return "ruben-gambino-low"
    if t >= n - 1:
        return "ruben-gambino-high"
    if x >= 0.5:
        return "smirnov"
    nx2 = t * x
    if n <= 140:
        return "dmtw" if nx2 <= 0.754693 else ("pomeranz" if nx2 <= 4 else "smirnov")
    if nx2 >= 370:
        return "zero"
    if nx2 >= 2.2:
        return "smirnov"
    return "dmtw" if (n <= 100000 and n * x ** 1.5 <= 1.4) else "pelz-good"


# ---------------------------------------------------------------- KS two-sample cases
ks_cases = []


def ks_case(name, xname, yname):
    x = np.asarray(samples[xname])
    y = np.asarray(samples[yname])
    r = st.ks_2samp(x, y)
    n1, n2 = len(x), len(y)
    method = "exact" if max(n1, n2) <= 10000 else "asymp"
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = np.round(m * n / (m + n))
    branch = kstwo_branch(float(r.statistic), en) if method == "asymp" else ("square" if n1 == n2 else "band")
    ks_cases.append({
        "name": name, "x": xname, "y": yname,
        "statistic": num(r.statistic), "pvalue": num(r.pvalue),
        "location": num(r.statistic_location), "sign": int(r.statistic_sign),
        "method": method, "branch": branch,
    })


sample("tiny_a", [1.0])
sample("tiny_b", [2.0])
sample("tiny_c", [0.5, 1.5])
sample("tiny_d", [1.0, 1.0, 3.0])
sample("tiny_e", [3.0, 1.0, 2.0, 2.0])
sample("n50", rng.standard_normal(50))
sample("n30", rng.standard_normal(30))
sample("n30_far", rng.standard_normal(30) + 100.0)
sample("int40", rng.integers(0, 5, 40))
sample("int55", rng.integers(0, 6, 55))
sample("n200", rng.standard_normal(200))
sample("n317_shift", rng.standard_normal(317) + 0.2)
sample("n1000_a", rng.standard_normal(1000))
sample("n1000_b", rng.standard_normal(1000) * 1.1)
sample("n10000_a", rng.standard_normal(10000), 4)
sample("n10000_b", rng.standard_normal(10000) + 0.03, 4)
sample("n9999", rng.standard_normal(9999), 4)
sample("n7500", rng.standard_normal(7500) + 0.05, 4)
sample("int3000", rng.integers(0, 12, 3000))
sample("int2000", rng.integers(1, 12, 2000))
sample("n12000", rng.standard_normal(12000), 4)
sample("n11000_shift", rng.standard_normal(11000) + 0.06, 4)
sample("q12000", st.norm.ppf((np.arange(12000) + 0.5) / 12000), 6)
sample("q11000_shift", st.norm.ppf((np.arange(11000) + 0.5) / 11000) + 0.005, 6)
sample("n10001_a", rng.standard_normal(10001), 4)
sample("n10001_b", rng.standard_normal(10001), 4)
sample("n20000", rng.standard_normal(20000), 4)
sample("int15000", rng.integers(0, 10, 15000))
sample("int12000", rng.integers(0, 10, 12000))
sample("n11000_far", rng.standard_normal(11000) + 0.75, 4)

ks_case("tiny_1v1", "tiny_a", "tiny_b")
ks_case("tiny_2v1", "tiny_c", "tiny_a")
ks_case("tiny_ties", "tiny_d", "tiny_e")
ks_case("identical_50", "n50", "n50")
ks_case("disjoint_30", "n30", "n30_far")
ks_case("disjoint_30_reversed", "n30_far", "n30")
ks_case("int_ties_40_55", "int40", "int55")
ks_case("normal_200_317", "n200", "n317_shift")
ks_case("normal_1000_scale", "n1000_a", "n1000_b")
ks_case("exact_square_10000", "n10000_a", "n10000_b")
ks_case("exact_band_9999_10000", "n9999", "n10000_a")
ks_case("exact_band_10000_7500", "n10000_b", "n7500")
ks_case("exact_int_ties_3000_2000", "int3000", "int2000")
ks_case("asymp_12000_11000_smirnov", "n12000", "n11000_shift")
ks_case("asymp_12000_11000_dmtw", "q12000", "q11000_shift")
ks_case("asymp_half_even_10001", "n10001_a", "n10001_b")
ks_case("asymp_int_ties_15000_12000", "int15000", "int12000")
ks_case("asymp_far_zero", "n12000", "n11000_far")
ks_case("asymp_1_vs_20000", "tiny_a", "n20000")

# small en (<= 140) asymptotic branches: a small sample against 20000 values, shifted
small_branches_wanted = {"dmtw", "pomeranz", "smirnov"}
found = set()
for k, size in enumerate([20, 60, 130]):
    for shift in [0.0, 0.25, 0.5, 0.8, 1.2, 1.8, 2.5]:
        name = f"small{size}_shift{shift}"
        base = rng.standard_normal(size) + shift
        r = st.ks_2samp(base, np.asarray(samples["n20000"]))
        m, n = 20000.0, float(size)
        en = np.round(m * n / (m + n))
        b = kstwo_branch(float(r.statistic), en)
        if (size, b) in found:
            continue
        found.add((size, b))
        sample(name, base)
        ks_case(f"asymp_small_{size}_{b}", name, "n20000")

# pelz-good in ks: medium d for en > 140
for shift in [0.0, 0.01, 0.02, 0.03]:
    name = f"n11000_pg{shift}"
    base = np.round(rng.standard_normal(11000) + shift, 4)
    r = st.ks_2samp(np.asarray(samples["n12000"]), base)
    en = np.round(12000.0 * 11000.0 / 23000.0)
    if kstwo_branch(float(r.statistic), en) == "pelz-good":
        sample(name, base)
        ks_case("asymp_12000_11000_pelz_good", "n12000", name)
        break

# ---------------------------------------------------------------- exact lattice-path functions
band_cases = []
for _ in range(60):
    m = int(rng.integers(1, 1500))
    n = int(rng.integers(1, 1500))
    if m == n:
        n += 1
    g = math.gcd(m, n)
    lcm = (m // g) * n
    h = int(rng.integers(1, max(2, lcm // 3)))
    band_cases.append({"m": m, "n": n, "g": g, "h": h, "p": num(_compute_outer_prob_inside_method(m, n, g, h))})
for m, n in [(10000, 9999), (10000, 7500), (3, 2), (1, 5), (1000, 10)]:
    g = math.gcd(m, n)
    lcm = (m // g) * n
    for frac in [0.005, 0.02, 0.1, 0.5]:
        h = max(1, int(round(frac * lcm)))
        band_cases.append({"m": m, "n": n, "g": g, "h": h, "p": num(_compute_outer_prob_inside_method(m, n, g, h))})
square_cases = []
for n in [1, 2, 5, 10, 100, 1000, 10000]:
    for frac in [0.01, 0.05, 0.1, 0.3, 0.7, 1.0]:
        h = max(1, int(round(frac * n)))
        square_cases.append({"n": n, "h": h, "p": num(_compute_prob_outside_square(n, h))})

# ---------------------------------------------------------------- distribution functions
kstwo_cases = []
for n in [1, 2, 3, 5, 10, 20, 50, 100, 140, 141, 200, 1000, 5000, 5739, 10000, 50000, 100000, 100001, 250000]:
    xs = set()
    # the exact one-sided sum behind "smirnov" costs O(n) terms: keep few of those for huge n
    zs = [0.3, 0.5, 0.7, 0.8, 0.87, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 19.3]
    if n > 50000:
        zs = [0.5, 0.87, 1.2, 19.3] + ([2.0] if n == 100001 else [])
    for z in zs:
        xs.add(z / math.sqrt(n))
    for t in [0.4, 0.75, 1.5, 3.5]:
        xs.add(t / n)
    for x in [0.45, 0.5, 0.6, 0.9, 0.999, 1.0 - 0.5 / n] if n <= 50000 else [0.9, 1.0 - 0.5 / n]:
        xs.add(x)
    for x in sorted(xs):
        if 0 < x <= 1:
            kstwo_cases.append({"n": n, "x": x, "sf": num(st.kstwo.sf(x, n)), "branch": kstwo_branch(x, n)})

smirnov_cases = []
for n in [1, 2, 3, 5, 10, 50, 100, 1012, 1013, 5000, 20000, 200000, 2000000]:
    xs = [1e-4, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0 / n, 2.0 / n, 1.5 / n, 1 - 1.0 / n]
    if n == 200000:
        xs = [0.004, 0.3, 1.0 / n, 1 - 1.0 / n]
    for x in xs:
        if 0 <= x <= 1:
            smirnov_cases.append({"n": n, "x": x, "sf": num(sc.smirnov(n, x))})

kolmogorov_cases = [{"x": x, "sf": num(sc.kolmogorov(x))}
                    for x in [0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.82, 0.83, 0.9, 1.0, 1.36, 2.0, 3.0, 5.0, 8.0, 20.0]]

gamma_cases = []
for a in [0.01, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 7.5, 9.999, 10.0, 10.5, 20.0, 25.0, 50.0, 100.0, 150.5, 500.0, 1000.0, 5000.0, 1e5]:
    for f in [1e-3, 0.1, 0.5, 0.8, 0.9, 0.97, 1.0, 1.03, 1.1, 1.3, 1.6, 2.0, 3.0, 5.0, 10.0, 30.0]:
        x = a * f
        gamma_cases.append({"a": a, "x": x, "p": num(sc.gammainc(a, x)), "q": num(sc.gammaincc(a, x))})
    for x in [0.01, 0.5, 1.0, 1.1, 2.0, 50.0, 300.0, 700.0]:
        gamma_cases.append({"a": a, "x": x, "p": num(sc.gammainc(a, x)), "q": num(sc.gammaincc(a, x))})

chi2_cases = []
for df in [1, 2, 3, 4, 5, 7, 10, 19, 29, 49, 99, 199, 999]:
    for f in [0.0, 0.05, 0.3, 0.7, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 40.0]:
        x = df * f
        chi2_cases.append({"df": df, "x": x, "sf": num(st.chi2.sf(x, df))})
    for x in [0.001, 1.0, 3.84, 100.0, 500.0, 1400.0]:
        chi2_cases.append({"df": df, "x": x, "sf": num(st.chi2.sf(x, df))})

ndtr_cases = [{"x": x, "cdf": num(sc.ndtr(x))}
              for x in [-40.0, -10.0, -8.3, -5.0, -3.0, -1.96, -1.0, -0.7071, -0.5, -1e-3, 0.0, 0.2, 0.7, 0.7072, 1.0, 1.5, 2.5, 4.0, 6.0, 8.0, 9.0, 40.0]]
erf_cases = [{"x": x, "erf": num(sc.erf(x)), "erfc": num(sc.erfc(x))}
             for x in [-3.0, -1.0, -0.3, 0.0, 1e-8, 0.1, 0.49, 0.5, 0.75, 1.0, 2.0, 3.5, 5.0, 10.0, 26.0]]


# ---------------------------------------------------------------- Evidently formulas
def value_counts(a):
    keys, counts = np.unique(np.asarray(a), return_counts=True)
    return {(k.item() if hasattr(k, "item") else k): int(c) for k, c in zip(keys, counts)}


def keys_union(ref_counts, cur_counts):
    # Evidently: list(set(ref.unique()) | set(cur.unique())); the order only changes summation order
    keys = list(ref_counts.keys())
    keys += [k for k in cur_counts if k not in ref_counts]
    return keys


def ev_chisquare(ref_counts, cur_counts):
    keys = keys_union(ref_counts, cur_counts)
    n_ref = sum(ref_counts.values())
    n_cur = sum(cur_counts.values())
    k_norm = n_cur / n_ref
    f_exp = [ref_counts.get(k, 0) * k_norm for k in keys]
    f_obs = [cur_counts.get(k, 0) for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = st.chisquare(f_obs, f_exp)
    return float(r.statistic), float(r.pvalue)


def ev_ztest(ref, cur):
    ref = np.asarray(ref)
    cur = np.asarray(cur)
    ur, uc = np.unique(ref), np.unique(cur)
    if len(ur) == 1 and len(uc) == 1 and ur[0] == uc[0]:
        return 0.0, 1.0
    keys = sorted(set(ur.tolist()) | set(uc.tolist()))
    k0 = keys[0]
    r = np.where(ref == k0, 0, 1)
    c = np.where(cur == k0, 0, 1)
    n1, n2 = len(r), len(c)
    p1 = float(sum(r)) / n1
    p2 = float(sum(c)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - st.norm.cdf(np.abs(z))))


def ev_binned(ref, cur, numeric, fill_zeroes):
    ref = np.asarray(ref)
    cur = np.asarray(cur)
    if numeric and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        rc, cc = value_counts(ref), value_counts(cur)
        keys = keys_union(rc, cc)
        rp = np.array([rc.get(k, 0) / len(ref) for k in keys])
        cp = np.array([cc.get(k, 0) / len(cur) for k in keys])
        bins = None
    if fill_zeroes:
        for p in (rp, cp):
            mn = min(p[p != 0])
            np.place(p, p == 0, mn / 10 ** 6 if mn <= 0.0001 else 0.0001)
    return rp, cp, bins


def ev_psi(ref, cur, numeric):
    rp, cp, _ = ev_binned(ref, cur, numeric, True)
    psi = 0
    for i, _ in enumerate(rp):
        psi += (rp[i] - cp[i]) * np.log(rp[i] / cp[i])
    return float(psi)


def ev_js(ref, cur, numeric):
    rp, cp, _ = ev_binned(ref, cur, numeric, False)
    return float(distance.jensenshannon(rp, cp))


def counts_json(c):
    return [[k, v] for k, v in c.items()]


cat_cases = []
cats = np.array(["a", "b", "c", "d", "e"])
cat_samples = {
    "cat_same": (rng.choice(cats, 300, p=[0.4, 0.3, 0.15, 0.1, 0.05]), rng.choice(cats, 250, p=[0.4, 0.3, 0.15, 0.1, 0.05])),
    "cat_shift": (rng.choice(cats, 800, p=[0.4, 0.3, 0.15, 0.1, 0.05]), rng.choice(cats, 500, p=[0.2, 0.2, 0.2, 0.2, 0.2])),
    "cat_new_category": (rng.choice(cats[:3], 200), rng.choice(cats, 150)),
    "cat_missing_in_current": (rng.choice(cats, 400), rng.choice(cats[:2], 90)),
    "cat_large": (rng.choice(np.array([f"k{i}" for i in range(60)]), 20000), rng.choice(np.array([f"k{i}" for i in range(60)]), 15000)),
    "binary_same": (rng.choice(np.array(["no", "yes"]), 900, p=[0.7, 0.3]), rng.choice(np.array(["no", "yes"]), 700, p=[0.7, 0.3])),
    "binary_shift": (rng.choice(np.array(["no", "yes"]), 900, p=[0.7, 0.3]), rng.choice(np.array(["no", "yes"]), 400, p=[0.5, 0.5])),
    "binary_one_value_each": (np.array(["x"] * 50), np.array(["y"] * 40)),
    "constant_same": (np.array(["x"] * 50), np.array(["x"] * 40)),
    "int_values_3": (rng.integers(0, 3, 500), rng.integers(0, 3, 300)),
}
for name, (ref, cur) in cat_samples.items():
    rc, cc = value_counts(ref), value_counts(cur)
    keys = set(rc) | set(cc)
    entry = {"name": name, "ref": counts_json(rc), "cur": counts_json(cc)}
    if len(keys) >= 2:
        s, p = ev_chisquare(rc, cc)
        entry["chisquare"] = {"statistic": num(s), "pvalue": num(p)}
    z, pz = ev_ztest(ref, cur)
    entry["ztest"] = {"statistic": num(z), "pvalue": num(pz)}
    entry["psi"] = num(ev_psi(ref, cur, False))
    entry["jensenshannon"] = num(ev_js(ref, cur, False))
    cat_cases.append(entry)

num_cases = []
sample("psi_ref", rng.standard_normal(800), 4)
sample("psi_cur_same", rng.standard_normal(600), 4)
sample("psi_cur_shift", rng.standard_normal(600) * 1.3 + 0.4, 4)
sample("ints_ref", rng.integers(0, 15, 700))
sample("ints_cur", rng.integers(2, 17, 500))
sample("const_ref", [5.0] * 40)
sample("const_cur", [5.0] * 30)
for ref_name, cur_name in [("psi_ref", "psi_cur_same"), ("psi_ref", "psi_cur_shift"), ("n10000_a", "n10000_b"),
                           ("n12000", "n11000_shift"), ("ints_ref", "ints_cur"), ("n1000_a", "n1000_b"),
                           ("int3000", "int2000"), ("const_ref", "const_cur"), ("n30", "n30_far")]:
    ref = np.asarray(samples[ref_name])
    cur = np.asarray(samples[cur_name])
    wd = st.wasserstein_distance(ref, cur)
    norm = max(np.std(ref), 0.001)
    rp, cp, bins = ev_binned(ref, cur, True, False)
    num_cases.append({
        "name": f"{ref_name}~{cur_name}", "ref": ref_name, "cur": cur_name,
        "wasserstein": num(wd), "ref_std": num(np.std(ref)), "wasserstein_normed": num(wd / norm),
        "psi": num(ev_psi(ref, cur, True)), "jensenshannon": num(ev_js(ref, cur, True)),
        "bin_edges": arr(bins) if bins is not None else None,
        "ref_unique": int(len(np.unique(ref))),
    })

weighted_cases = []
for k in range(6):
    nu = int(rng.integers(1, 40))
    nv = int(rng.integers(1, 40))
    u = np.round(rng.standard_normal(nu), 2)
    v = np.round(rng.standard_normal(nv) + 0.3, 2)
    uw = rng.uniform(0, 3, nu) if k % 3 != 2 else None
    vw = rng.uniform(0, 3, nv) if k % 3 != 1 else None
    d = st.wasserstein_distance(u, v, uw, vw)
    weighted_cases.append({"u": arr(u), "v": arr(v), "uw": None if uw is None else arr(uw),
                           "vw": None if vw is None else arr(vw), "distance": num(d)})

js_vector_cases = []
for p, q in [([1.0, 0.0], [0.5, 0.5]), ([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), ([1, 2, 3, 4], [4, 3, 2, 1]),
             (rng.uniform(0, 1, 30).tolist(), rng.uniform(0, 1, 30).tolist()), ([0.0, 1.0], [1.0, 0.0])]:
    js_vector_cases.append({"p": arr(p), "q": arr(q), "js": num(distance.jensenshannon(p, q)),
                            "js_base2": num(distance.jensenshannon(p, q, base=2))})

bh_cases = []
for k in range(5):
    m = int(rng.integers(1, 40))
    p = rng.uniform(0, 1, m) ** 3
    if k == 1:
        p[: m // 2] = p[0]  # ties
    if k == 2:
        p[-1] = 1.0
    srt = np.argsort(p)
    ps = p[srt]
    raw = ps / (np.arange(1, m + 1) / m)
    adj_sorted = np.minimum.accumulate(raw[::-1])[::-1]
    adj_sorted = np.minimum(adj_sorted, 1)
    adj = np.empty(m)
    adj[srt] = adj_sorted
    bh_cases.append({"p": arr(p), "adjusted": arr(adj)})

std_cases = [{"sample": name, "std": num(np.std(np.asarray(samples[name]))), "sum": num(np.sum(np.asarray(samples[name])))}
             for name in ["n50", "n1000_a", "n10000_a", "n12000", "int3000"]]

# ---------------------------------------------------------------- Evidently's default test per column on real data
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "raw")


def read_csv(name):
    import csv
    with open(os.path.join(DATA, name, "data.csv"), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = {}
    for j, h in enumerate(header):
        vals = [r[j] for r in body]
        try:
            cols[h] = np.array([float(v) if v != "" else np.nan for v in vals])
        except ValueError:
            cols[h] = np.array(vals, dtype=object)
    return cols, len(body)


def ev_column(ref, cur, numeric):
    ref = ref[~np.isnan(ref)] if numeric else ref
    cur = cur[~np.isnan(cur)] if numeric else cur
    n_values = len(set(ref.tolist()) | set(cur.tolist()))
    if len(ref) <= 1000:
        if numeric and n_values > 5:
            test = "ks"
        else:
            test = "chisquare" if n_values > 2 else "z"
    else:
        test = "wasserstein" if numeric and n_values > 5 else "jensenshannon"
    if test == "ks":
        r = st.ks_2samp(ref, cur)
        stat, p = float(r.statistic), float(r.pvalue)
    elif test == "chisquare":
        stat, p = ev_chisquare(value_counts(ref), value_counts(cur))
    elif test == "z":
        stat, p = ev_ztest(ref, cur)
    elif test == "wasserstein":
        stat, p = float(st.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)), None
    else:
        stat, p = ev_js(ref, cur, numeric), None
    return {"test": test, "statistic": num(stat), "pvalue": None if p is None else num(p), "unique": n_values}


dataset_cases = []
for name, split in [("breast_cancer", "even_odd"), ("wine", "mod3"), ("iris", "first100"), ("california_housing", "first12000")]:
    cols, n = read_csv(name)
    idx = np.arange(n)
    if split == "even_odd":
        rmask = idx % 2 == 0
    elif split == "mod3":
        rmask = idx % 3 != 0
    elif split == "first100":
        rmask = idx < 100
    else:
        rmask = idx < 12000
    results = []
    for col, values in cols.items():
        numeric = values.dtype != object
        r = ev_column(values[rmask], values[~rmask], numeric)
        r["column"] = col
        results.append(r)
    dataset_cases.append({"dataset": name, "split": split, "columns": results})

out = {
    "meta": {
        "generator": "bench/scipy_reference.py",
        "scipy": scipy.__version__, "numpy": np.__version__, "python": sys.version.split()[0], "seed": SEED,
        "note": "Non-finite floats are strings: inf, -inf, nan.",
    },
    "samples": samples,
    "ks": ks_cases,
    "ks_band": band_cases,
    "ks_square": square_cases,
    "kstwo": kstwo_cases,
    "smirnov": smirnov_cases,
    "kolmogorov": kolmogorov_cases,
    "gamma": gamma_cases,
    "chi2": chi2_cases,
    "ndtr": ndtr_cases,
    "erf": erf_cases,
    "categorical": cat_cases,
    "numeric": num_cases,
    "wasserstein_weighted": weighted_cases,
    "jensenshannon_vectors": js_vector_cases,
    "bh": bh_cases,
    "std": std_cases,
    "datasets": dataset_cases,
}
with open(OUT, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(ks_cases)} KS cases, {len(kstwo_cases)} kstwo, {len(gamma_cases)} gamma, "
      f"{len(samples)} samples, {os.path.getsize(OUT) / 1e6:.2f} MB")
print("KS branches:", sorted({c['branch'] for c in ks_cases}))
print("kstwo branches:", sorted({c['branch'] for c in kstwo_cases}))
