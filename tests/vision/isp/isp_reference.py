#!/usr/bin/env python3
"""Independent reference for src/vision/isp: every ISP stage written the NumPy/SciPy way (masked
convolutions with scipy.ndimage for demosaicing, gaussian_filter/median_filter for the luma filters,
numpy.linalg for the colour matrices), run on a seeded synthetic 12-bit mosaic, written to
isp_reference.json beside this file. tests/vision/isp/isp.test.ts compares the TypeScript ISP with it.

    python3 tests/vision/isp/isp_reference.py      # NumPy 1.24+/SciPy 1.10+ (Debian 12's python3-scipy)
"""
import json
import os

import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))

# Canon EOS 350D ColorMatrix1/2 and AsShotNeutral as stored in ../shared/data/raw_dng's header.
CM1 = [0.6159, -0.0945, -0.0745, -0.6846, 1.3563, 0.3684, -0.0802, 0.1086, 0.7555]
CM2 = [0.6018, -0.0617, -0.0965, -0.8645, 1.5881, 0.2975, -0.153, 0.1719, 0.7642]
NEUTRAL = [0.592408, 1.0, 0.501692]
# A ForwardMatrix (camera → XYZ D50, rows summing to the D50 white) for the forward-matrix case.
FM = [0.7763, 0.0065, 0.1815, 0.2848, 0.8183, -0.1031, 0.0105, -0.2281, 1.0428]

XYZ_FROM_SRGB = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                          [0.0193339, 0.1191920, 0.9503041]])
SRGB_FROM_XYZ_D50 = np.array([[3.1338561, -1.6168667, -0.4906146], [-0.9787684, 1.9161415, 0.0334540],
                              [0.0719453, -0.2289914, 1.4052427]])
TEMPS = {17: 2856.0, 21: 6504.0, 23: 5003.0}
COLOURS = {"R": 0, "G": 1, "B": 2}


def scene(h, w, rng):
    """A smooth colour scene with edges and noise, in [0.02, 0.95]."""
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    r = 0.5 + 0.4 * np.sin(xx / 3.0) * np.cos(yy / 4.0)
    g = 0.3 + 0.5 * (xx > w / 2) + 0.1 * np.cos(yy / 2.0)
    b = 0.2 + 0.6 * ((xx + yy) % 7) / 7.0
    img = np.stack([r, g, b], -1) + rng.normal(0, 0.03, (h, w, 3))
    return np.clip(img, 0.02, 0.95)


def mosaic(img, pattern):
    h, w, _ = img.shape
    cfa = np.zeros((h, w))
    for i, ch in enumerate(pattern):
        dy, dx = divmod(i, 2)
        cfa[dy::2, dx::2] = img[dy::2, dx::2, COLOURS[ch]]
    return cfa


def black_level(data, black, black_rows, black_cols, dh, dv, white):
    h, w = data.shape[:2]
    b = np.zeros((h, w))
    for i in range(black_rows):
        for j in range(black_cols):
            b[i::black_rows, j::black_cols] = black[i * black_cols + j]
    b = b + np.asarray(dh)[None, :] + np.asarray(dv)[:, None]
    if data.ndim == 3:
        b = b[..., None]
    return np.clip((data - b) / (white - b), 0.0, 1.0)


def masks(h, w, pattern):
    m = {c: np.zeros((h, w)) for c in "RGB"}
    for i, ch in enumerate(pattern):
        dy, dx = divmod(i, 2)
        m[ch][dy::2, dx::2] = 1.0
    return m


def bilinear(cfa, pattern):
    h, w = cfa.shape
    m = masks(h, w, pattern)
    k_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4.0
    k_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4.0
    conv = lambda a, k: ndimage.convolve(a, k, mode="mirror")
    return np.stack([conv(cfa * m["R"], k_rb), conv(cfa * m["G"], k_g), conv(cfa * m["B"], k_rb)], -1)


def malvar(cfa, pattern):
    """Malvar, He & Cutler 2004 as colour-demosaicing writes it: five 5×5 filters, then selection."""
    h, w = cfa.shape
    m = masks(h, w, pattern)
    conv = lambda k: ndimage.convolve(cfa, np.array(k) / 8.0, mode="mirror")
    g_at_rb = conv([[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]])
    rb_g_row = conv([[0, 0, 0.5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, 0.5, 0, 0]])
    rb_g_col = conv(
        [[0, 0, -1, 0, 0], [0, -1, 4, -1, 0], [0.5, 0, 5, 0, 0.5], [0, -1, 4, -1, 0], [0, 0, -1, 0, 0]])
    rb_at_br = conv([[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]])
    r_rows = np.any(m["R"] == 1, axis=1)[:, None] * np.ones((1, w))
    r_cols = np.any(m["R"] == 1, axis=0)[None, :] * np.ones((h, 1))
    b_rows = np.any(m["B"] == 1, axis=1)[:, None] * np.ones((1, w))
    b_cols = np.any(m["B"] == 1, axis=0)[None, :] * np.ones((h, 1))
    R = cfa * m["R"]
    G = np.where(m["G"] == 1, cfa, g_at_rb)
    B = cfa * m["B"]
    R = np.where((r_rows == 1) & (b_cols == 1), rb_g_row, R)
    R = np.where((b_rows == 1) & (r_cols == 1), rb_g_col, R)
    B = np.where((b_rows == 1) & (r_cols == 1), rb_g_row, B)
    B = np.where((r_rows == 1) & (b_cols == 1), rb_g_col, B)
    R = np.where((b_rows == 1) & (b_cols == 1), rb_at_br, R)
    B = np.where((r_rows == 1) & (r_cols == 1), rb_at_br, B)
    return np.stack([R, G, B], -1)


def mccamy(x, y):
    n = (x - 0.332) / (0.1858 - y)
    return 449 * n ** 3 + 3525 * n ** 2 + 6823.3 * n + 5520.33


def interpolation_weight(cm1, cm2, t1, t2, neutral):
    """DNG spec: weight of matrix 1 linear in 1/T, T of the neutral found by fixed-point iteration."""
    cm1, cm2 = np.reshape(cm1, (3, 3)), np.reshape(cm2, (3, 3))
    g = 0.5
    for _ in range(30):
        xyz = np.linalg.solve(g * cm1 + (1 - g) * cm2, np.asarray(neutral))
        x, y = xyz[0] / xyz.sum(), xyz[1] / xyz.sum()
        nxt = float(np.clip((1 / mccamy(x, y) - 1 / t2) / (1 / t1 - 1 / t2), 0, 1))
        if abs(nxt - g) < 1e-10:
            return nxt
        g = nxt
    return g


def srgb_from_cam_cm(cm):
    cam_from_srgb = np.reshape(cm, (3, 3)) @ XYZ_FROM_SRGB
    cam_from_srgb = cam_from_srgb / cam_from_srgb.sum(axis=1, keepdims=True)
    return np.linalg.inv(cam_from_srgb)


def luma(rgb):
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def gamma(rgb, curve, value):
    v = np.clip(rgb, 0, 1)
    if curve == "srgb":
        return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.power(v, 1 / 2.4) - 0.055)
    return np.power(v, 1 / value)


def orient(img, o):
    ops = {1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1, :],
           5: lambda a: np.transpose(a, (1, 0, 2)), 6: lambda a: np.rot90(a, -1),
           7: lambda a: np.transpose(a[::-1, ::-1], (1, 0, 2)),
           8: lambda a: np.rot90(a, 1)}
    return ops[o](img)


def pipeline(raw, meta, p):
    lin = black_level(raw, meta["blackLevel"], meta["blackRows"], meta["blackCols"], meta["blackDeltaH"],
                      meta["blackDeltaV"], meta["whiteLevel"][0])
    if meta["kind"] == "linear":
        rgb = lin
    else:
        pat = "".join("RGB"[c] for c in meta["cfaPattern"])
        rgb = malvar(lin, pat) if p["demosaic"] == "malvar" else bilinear(lin, pat)
    wb = p["white_balance"]
    if "gains" in wb:
        gains = np.array(wb["gains"], float) / wb["gains"][1]
    elif meta.get("asShotNeutral"):
        n = np.array(meta["asShotNeutral"])
        gains = n[1] / n
    else:
        gains = np.ones(3)
    gains = gains * np.array([wb["red_scale"], 1, wb["blue_scale"]])
    rgb = rgb * gains
    mode = p["colour"]
    if mode == "identity" or (mode != "forward" and "colorMatrix1" not in meta and "forwardMatrix1" not in meta):
        m = np.eye(3)
    elif mode == "forward" or (mode == "auto" and "forwardMatrix1" in meta):
        m = SRGB_FROM_XYZ_D50 @ np.reshape(meta["forwardMatrix1"], (3, 3))
    elif mode == "color_matrix_1":
        m = srgb_from_cam_cm(meta["colorMatrix1"])
    elif mode == "color_matrix_2":
        m = srgb_from_cam_cm(meta["colorMatrix2"])
    else:
        t1, t2 = TEMPS.get(meta.get("calibrationIlluminant1")), TEMPS.get(meta.get("calibrationIlluminant2"))
        if t1 and t2 and "colorMatrix2" in meta:
            g = interpolation_weight(meta["colorMatrix1"], meta["colorMatrix2"], t1, t2, meta.get("asShotNeutral", [1, 1, 1]))
            cm = g * np.array(meta["colorMatrix1"]) + (1 - g) * np.array(meta["colorMatrix2"])
        else:
            cm = meta.get("colorMatrix2", meta["colorMatrix1"])
        m = srgb_from_cam_cm(cm)
    rgb = rgb @ m.T
    dn = p["denoise"]
    if dn["method"] != "none":
        y = luma(rgb)
        f = ndimage.gaussian_filter(y, dn["sigma"], mode="nearest", truncate=3.0) if dn["method"] == "gaussian" \
            else ndimage.median_filter(y, size=dn["size"], mode="nearest")
        rgb = rgb + (f - y)[..., None]
    sh = p["sharpen"]
    if sh["amount"] != 0:
        y = luma(rgb)
        s = y + sh["amount"] * (y - ndimage.gaussian_filter(y, sh["sigma"], mode="nearest", truncate=3.0))
        rgb = rgb + (s - y)[..., None]
    out = gamma(rgb, p["gamma"]["curve"], p["gamma"]["value"])
    return orient(out, meta["orientation"])


def params(**kw):
    p = {"demosaic": "bilinear", "white_balance": {"red_scale": 1, "blue_scale": 1}, "colour": "auto",
         "denoise": {"method": "none", "sigma": 1, "size": 3}, "sharpen": {"amount": 0, "sigma": 1},
         "gamma": {"curve": "power", "value": 2.2}}
    for k, v in kw.items():
        p[k] = {**p[k], **v} if isinstance(v, dict) else v
    return p


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=float).ravel()]


def main():
    rng = np.random.default_rng(20240615)
    h, w = 13, 17  # odd on purpose: the far borders mirror onto the other CFA phase
    img = scene(h, w, rng)
    base_meta = {"width": w, "height": h, "kind": "cfa", "cfaRows": 2, "cfaCols": 2,
                 "blackLevel": [256, 258, 255, 257], "blackRows": 2, "blackCols": 2,
                 "blackDeltaH": flat(rng.uniform(-2, 2, w).round(2)), "blackDeltaV": flat(rng.uniform(-2, 2, h).round(2)),
                 "whiteLevel": [4095], "orientation": 1, "bitsPerSample": 12, "asShotNeutral": NEUTRAL,
                 "colorMatrix1": CM1, "colorMatrix2": CM2, "calibrationIlluminant1": 17, "calibrationIlluminant2": 21}
    cases = []
    for pat, pattern in (("RGGB", [0, 1, 1, 2]), ("GRBG", [1, 0, 2, 1]), ("BGGR", [2, 1, 1, 0]), ("GBRG", [1, 2, 0, 1])):
        cam = img / (np.array(NEUTRAL) ** -1)  # the scene as the camera saw it under the as-shot light
        cfa = mosaic(cam, pat)
        data = np.clip(np.round(256 + cfa * (4095 - 256) + rng.normal(0, 2, cfa.shape)), 0, 4095).astype(np.uint16)
        meta = {**base_meta, "cfaPattern": pattern}
        lin = black_level(data.astype(float), meta["blackLevel"], 2, 2, meta["blackDeltaH"], meta["blackDeltaV"], 4095)
        cases.append({"name": f"stages_{pat}", "meta": meta, "data": [int(v) for v in data.ravel()],
                      "black_level": flat(lin), "bilinear": flat(bilinear(lin, pat)), "malvar": flat(malvar(lin, pat))})
    rggb = cases[0]
    raw = np.array(rggb["data"], float).reshape(h, w)
    renders = []
    variants = [
        ("defaults", {}, params()),
        ("malvar_manual_wb_cm1_gauss_sharpen_srgb_rot6", {"orientation": 6},
         params(demosaic="malvar", white_balance={"gains": [2.1, 1.0, 1.7], "red_scale": 1.1, "blue_scale": 0.9},
                colour="color_matrix_1", denoise={"method": "gaussian", "sigma": 1.3},
                sharpen={"amount": 1.5, "sigma": 1.0}, gamma={"curve": "srgb"})),
        ("forward_median_gamma18_rot3", {"forwardMatrix1": FM, "orientation": 3},
         params(denoise={"method": "median", "size": 3}, gamma={"value": 1.8})),
        ("cm2_median5_rot8", {"orientation": 8}, params(colour="color_matrix_2", denoise={"method": "median", "size": 5})),
        ("no_matrices_no_neutral_rot5", {"orientation": 5},
         params(demosaic="malvar", sharpen={"amount": 0.7, "sigma": 0.6})),
        ("unknown_illuminants_selects_cm2", {"calibrationIlluminant1": 0, "calibrationIlluminant2": 0}, params()),
    ] + [(f"orientation_{o}", {"orientation": o}, params()) for o in (2, 4, 7)]
    for name, meta_over, p in variants:
        meta = {**rggb["meta"], **meta_over}
        if name.startswith("no_matrices"):
            for k in ("colorMatrix1", "colorMatrix2", "asShotNeutral", "calibrationIlluminant1", "calibrationIlluminant2"):
                meta.pop(k)
        out = pipeline(raw, meta, p)
        renders.append({"name": name, "meta": meta, "data": rggb["data"], "params": p,
                        "height": int(out.shape[0]), "width": int(out.shape[1]), "rgb": flat(out)})
    # A LinearRaw (already three samples per pixel): black level and the rest, no demosaic.
    lin_data = np.clip(np.round(256 + img * (4095 - 256)), 0, 4095).astype(np.uint16)
    lin_meta = {**base_meta, "kind": "linear", "cfaPattern": [], "cfaRows": 0, "cfaCols": 0,
                "blackLevel": [256], "blackRows": 1, "blackCols": 1}
    out = pipeline(lin_data.astype(float), lin_meta, params(colour="identity"))
    renders.append({"name": "linear_raw_identity", "meta": lin_meta, "data": [int(v) for v in lin_data.ravel()],
                    "params": params(colour="identity"), "height": h, "width": w, "rgb": flat(out)})
    weight = interpolation_weight(CM1, CM2, 2856.0, 6504.0, NEUTRAL)
    ref = {"generator": "tests/vision/isp/isp_reference.py", "numpy": np.__version__,
           "scipy": __import__("scipy").__version__, "stages": cases, "renders": renders,
           "interpolation": {"cm1": CM1, "cm2": CM2, "t1": 17, "t2": 21, "neutral": NEUTRAL, "weight": weight,
                             "srgb_from_camera": flat(srgb_from_cam_cm(weight * np.array(CM1) + (1 - weight) * np.array(CM2)))}}
    with open(os.path.join(HERE, "isp_reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
