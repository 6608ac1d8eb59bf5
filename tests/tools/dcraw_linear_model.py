#!/usr/bin/python3
"""What `dcraw_emu -4 -q 0 -w` computes, written out in NumPy from the raw plane LibRaw read and the DNG
tags, and how close that model comes to dcraw_emu's committed output (tests/fixtures/raw/
dcraw_emu_linear.json). For the ISP's comparison: it says which formula LibRaw applies and the
tolerance a faithful bilinear pipeline can expect.

    /usr/bin/python3 tests/tools/dcraw_linear_model.py

Model (dcraw/LibRaw 0.20, use_camera_wb, highlight 0, quality 0, output sRGB, gamma 1, no brightening):
  1. v = clip((raw - black) * mul[c] * 65535 / (white - black), 0, 65535), mul = 1/AsShotNeutral
     divided by its smallest entry (green = 1 here);
  2. bilinear demosaic (lin_interpolate): the missing colours of a pixel are the mean of that colour's
     sites among its 8 neighbours (orthogonal weight 2, diagonal 1 — for a Bayer pattern the plain
     mean); the 1-pixel border: the unweighted mean of that colour's sites in the 3×3 window;
  3. rgb = rgb_cam · v, rgb_cam = inverse of cam_rgb, cam_rgb = ColorMatrix2 (XYZ → camera, D65) ·
     sRGB→XYZ with rows normalised to sum 1; clipped to [0, 65535] and truncated to integers.
"""
import base64
import json
import os

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RAW = os.path.join(ROOT, "tests", "fixtures", "raw")
XYZ_RGB = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])


def tiff_tags(b):
    """The few DNG tags the model needs, read from IFD0 and the raw SubIFD (little-endian writer files)."""
    import struct
    le = b[:2] == b"II"
    e = "<" if le else ">"
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 10: 8, 12: 8}
    tags = {}

    def values(t, n, off):
        size = sizes[t] * n
        at = off if size <= 4 else struct.unpack(e + "I", off_bytes(off))[0]
        out = []
        for i in range(n):
            if t == 3: out.append(struct.unpack(e + "H", b[at + 2 * i:at + 2 * i + 2])[0])
            elif t == 4: out.append(struct.unpack(e + "I", b[at + 4 * i:at + 4 * i + 4])[0])
            elif t in (1, 7): out.append(b[at + i])
            elif t == 5:
                nn, d = struct.unpack(e + "II", b[at + 8 * i:at + 8 * i + 8]); out.append(nn / d)
            elif t == 10:
                nn, d = struct.unpack(e + "ii", b[at + 8 * i:at + 8 * i + 8]); out.append(nn / d)
        return out

    def off_bytes(off):
        return b[off:off + 4]

    def ifd(at):
        n = struct.unpack(e + "H", b[at:at + 2])[0]
        for i in range(n):
            p = at + 2 + 12 * i
            tag, t, cnt = struct.unpack(e + "HHI", b[p:p + 8])
            if t in sizes and t != 2:
                tags.setdefault(tag, values(t, cnt, p + 8))
        return tags

    ifd(struct.unpack(e + "I", b[4:8])[0])
    if 330 in tags:
        sub = tags.pop(330)[0]
        for k in (254, 256, 257, 258, 259, 262, 273, 277, 278, 279):
            tags.pop(k, None)
        ifd(sub)
    return tags


def model(raw, tags):
    h, w = raw.shape
    black, white = tags[50714][0], tags[50717][0]
    neutral = np.array(tags[50728])
    mul = (1 / neutral) / (1 / neutral).min()
    cfa = np.array(tags[33422]).reshape(2, 2)
    colour = cfa[np.arange(h)[:, None] % 2, np.arange(w)[None, :] % 2]
    v = np.clip((raw.astype(np.float64) - black) * mul[colour] * 65535 / (white - black), 0, 65535)
    v = np.floor(v)  # dcraw scales in integers
    img = np.zeros((h, w, 3))
    for c in range(3):
        mask = (colour == c).astype(np.float64)
        vals = v * mask
        pad_v = np.pad(vals, 1)
        pad_m = np.pad(mask, 1)
        s = np.zeros((h, w)); n = np.zeros((h, w))
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dy == 0 and dx == 0: continue
                s += pad_v[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                n += pad_m[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        img[..., c] = np.where(mask > 0, v, s / np.maximum(n, 1))
    cm = np.array(tags[50722]).reshape(3, 3)
    cam_rgb = cm @ XYZ_RGB
    cam_rgb = cam_rgb / cam_rgb.sum(axis=1, keepdims=True)
    rgb_cam = np.linalg.inv(cam_rgb)
    out = img @ rgb_cam.T
    return np.clip(out, 0, 65535)


def main():
    lin = json.load(open(os.path.join(RAW, "dcraw_emu_linear.json")))["files"]
    ref = json.load(open(os.path.join(RAW, "libraw_reference.json")))
    worst_in, worst_border, rows = 0, 0, []
    for rel, e in sorted(lin.items()):
        b = open(os.path.join(ROOT, rel), "rb").read()
        tags = tiff_tags(b)
        if 50829 in tags or 50719 in tags:
            continue  # the model covers margin-free files (dcraw_emu keeps LibRaw's own crop)
        info = ref["files"][rel]
        raw = np.frombuffer(base64.b64decode(ref["planes"][rel]), "<u2") if rel in ref["planes"] else None
        if raw is None:
            from subprocess import run
            import tempfile, shutil, re
            with tempfile.TemporaryDirectory() as t:
                f = os.path.join(t, "f.dng"); shutil.copy(os.path.join(ROOT, rel), f)
                run(["unprocessed_raw", f], capture_output=True, check=True)
                d = open(f + ".pgm", "rb").read()
                m = re.match(rb"P5\s+\d+\s+\d+\s+\d+\s", d)
                raw = np.frombuffer(d[m.end():], ">u2").astype("<u2")
        raw = raw.reshape(info["height"], info["width"])
        got = np.frombuffer(base64.b64decode(e["rgb"]), "<u2").reshape(e["height"], e["width"], 3).astype(np.float64)
        want = model(raw, tags)
        d = np.abs(got - want)
        inner = d[1:-1, 1:-1].max()
        worst_in, worst_border = max(worst_in, inner), max(worst_border, d.max())
        rows.append(f"{rel}: interior max |diff| {inner:.1f}, with border {d.max():.1f} (of 65535)")
    print("\n".join(rows))
    print(f"worst interior {worst_in:.1f}, worst incl. border {worst_border:.1f} (16-bit units)")


main()
