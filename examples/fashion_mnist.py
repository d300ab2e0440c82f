#!/usr/bin/env python3
"""Writes Fashion-MNIST images as COPY text rows: id, category, vector(784).

Reads Debian's dataset-fashion-mnist files; pixels (0-255) become the
vector's elements, so L2 distance compares images pixel by pixel.
"""
import argparse
import gzip
import struct
import sys

DATA_DIR = "/usr/share/datasets/fashion-mnist"
CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, kind, dims = struct.unpack(">HBB", data[:4])
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def images(split):
    prefix = "t10k" if split == "test" else "train"
    (count, rows, cols), pixels = read_idx(f"{DATA_DIR}/{prefix}-images-idx3-ubyte.gz")
    (_,), labels = read_idx(f"{DATA_DIR}/{prefix}-labels-idx1-ubyte.gz")
    size = rows * cols
    for i in range(count):
        yield labels[i], pixels[i * size:(i + 1) * size]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=["train", "test"], default="test")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    out = sys.stdout
    for i, (label, pixels) in enumerate(images(args.split)):
        if args.limit is not None and i >= args.limit:
            break
        out.write(f"{i}\t{CATEGORIES[label]}\t[{','.join(map(str, pixels))}]\n")


if __name__ == "__main__":
    main()
