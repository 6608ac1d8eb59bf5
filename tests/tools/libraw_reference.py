#!/usr/bin/python3
"""LibRaw's reading of every shipped DNG, for the decoder's cross-check (CI needs no LibRaw).

    /usr/bin/python3 tests/tools/libraw_reference.py

Needs Debian's libraw-bin (unprocessed_raw, dcraw_emu, raw-identify). Writes
  tests/fixtures/raw/libraw_reference.json  - per DNG: LibRaw's raw plane (unprocessed_raw: the sensor
      values as stored, full image with margins) as size, margins, sum and SHA-256 of its
      little-endian uint16 bytes; the full plane (base64) for the layout fixtures
  tests/fixtures/raw/dcraw_emu_linear.json  - `dcraw_emu -4 -q 0 -w -c 0` (linear 16-bit sRGB, bilinear
      demosaic, camera white balance, no auto-brightening; -c 0: the white level is WhiteLevel, not
      LibRaw's default of the data maximum whenever that exceeds 0.75 × WhiteLevel) for three fixtures and one crop per scene
  tests/fixtures/raw/raw_identify_350d.txt  - `raw-identify -v` of the real 350D header (metadata test)
Same output as `-T` (TIFF); PPM is written to stdout because it needs no TIFF parser here.
"""
import base64
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "raw")
HEADER = "/work/shared/data/raw_dng/exiftool_canon350d_header_only.dng"


def netpbm(data):
    """P5/P6 16-bit big-endian → (array, width, height, channels)."""
    m = re.match(rb"(P[56])\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    kind, w, h, mx = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
    assert mx > 255, "expected 16-bit output"
    ch = 1 if kind == b"P5" else 3
    px = np.frombuffer(data[m.end():m.end() + w * h * ch * 2], dtype=">u2").astype("<u2")
    return px, w, h, ch


def unprocessed(path):
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "f.dng")
        shutil.copy(path, f)
        run = subprocess.run(["unprocessed_raw", f], capture_output=True, text=True, check=True)
        if not os.path.exists(f + ".pgm"):
            # unprocessed_raw exits 0 without output when LibRaw cannot unpack; dcraw_emu says why.
            why = subprocess.run(["dcraw_emu", "-Z", "-", f], capture_output=True, text=True).stderr.strip().splitlines()
            return None, (why[-1] if why else run.stdout.strip().splitlines()[-1]).replace(f, "<file>")
        log = run.stdout
        px, w, h, _ = netpbm(open(f + ".pgm", "rb").read())
    margins = re.search(r"Margins: top=(\d+), left=(\d+)", log)
    return px, (w, h, int(margins.group(1)), int(margins.group(2)))


def version():
    out = subprocess.run(["unprocessed_raw"], capture_output=True, text=True).stdout
    return re.search(r"LibRaw ([\w.\-]+)", out).group(1)


def main():
    dataset = sorted(glob.glob(os.path.join(ROOT, "data/raw/dng_scenes/images/*/*.dng")))
    fixtures = sorted(glob.glob(os.path.join(OUT, "dng", "*.dng")))
    files, planes = {}, {}
    for path in dataset + fixtures:
        rel = os.path.relpath(path, ROOT)
        px, info = unprocessed(path)
        if px is None:
            files[rel] = {"error": info}
            continue
        w, h, top, left = info
        b = px.tobytes()
        files[rel] = {"width": w, "height": h, "top_margin": top, "left_margin": left,
                      "sum": int(px.astype(np.int64).sum()), "sha256": hashlib.sha256(b).hexdigest()}
        if path in fixtures:
            planes[rel] = base64.b64encode(b).decode()
    ref = {"libraw": version(), "command": "unprocessed_raw <file> (PGM, 16-bit)", "files": files, "planes": planes}
    with open(os.path.join(OUT, "libraw_reference.json"), "w") as fh:
        json.dump(ref, fh, indent=1, sort_keys=True)
        fh.write("\n")

    linear = {}
    picks = [p for p in fixtures if re.search(r"(u16_le_strips|lj92_strip|active_area_crop)\.dng$", p)]
    picks += [p for p in dataset if p.endswith("_000.dng")]
    for path in picks:
        if "error" in files[os.path.relpath(path, ROOT)]:
            continue
        out = subprocess.run(["dcraw_emu", "-4", "-q", "0", "-w", "-c", "0", "-Z", "-", path], capture_output=True, check=True).stdout
        px, w, h, ch = netpbm(out)
        linear[os.path.relpath(path, ROOT)] = {"width": w, "height": h, "rgb": base64.b64encode(px.tobytes()).decode()}
    with open(os.path.join(OUT, "dcraw_emu_linear.json"), "w") as fh:
        json.dump({"libraw": version(), "command": "dcraw_emu -4 -q 0 -w -c 0 -Z - <file> (same pixels as -4 -T -q 0 -w -c 0)",
                   "layout": "height x width x 3 interleaved, little-endian uint16, base64", "files": linear},
                  fh, indent=1, sort_keys=True)
        fh.write("\n")

    raw = subprocess.run(["raw-identify", "-v", HEADER], capture_output=True, check=True).stdout
    # RawDataUniqueID is binary: keep the text lines only.
    ident = "\n".join(l for l in raw.decode("latin-1").splitlines() if not l.startswith("RawDataUniqueID")) + "\n"
    with open(os.path.join(OUT, "raw_identify_350d.txt"), "w") as fh:
        fh.write(ident.replace(HEADER, "exiftool_canon350d_header_only.dng"))
    print(f"LibRaw {version()}: {len(files)} DNGs, {len(linear)} linear renders")


main()
