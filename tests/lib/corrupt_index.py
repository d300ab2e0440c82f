#!/usr/bin/env python3
"""Damages a Quiver hnsw index file in place, one way per call, for the
corruption tests (pg_test/corruption.sh). The server must be stopped.

Usage: corrupt_index.py FILE HOW

It reads the layout that src/page/mod.rs writes: block 0's meta data after
the page header (magic, version, ..., entry point at bytes 18..24, filter
directory head at 28..32), element tuples (kind 1: level, flags, TID count,
neighbor tuple id at 4..10, vector from byte 72) and neighbor tuples (kind 2:
level, slot count at 2..4, ids of 6 bytes from byte 8). Every damage is aimed
at the entry point or its neighbor lists, which every scan reads, so that a
scan cannot pass it by.
"""
import struct
import sys

BLOCK = 8192
PAGE_HEADER = 24
ELEMENT_VECTOR_AT = 72


def line_pointer(page, offset):
    raw = struct.unpack_from("<I", page, PAGE_HEADER + 4 * (offset - 1))[0]
    return raw & 0x7FFF, (raw >> 15) & 3, raw >> 17


def node_id(data, at):
    block, offset = struct.unpack_from("<IH", data, at)
    return block, offset


def tuple_at(blob, block, offset):
    """Absolute file position and length of an item."""
    page = blob[block * BLOCK:(block + 1) * BLOCK]
    start, flags, length = line_pointer(page, offset)
    assert flags == 1, f"item {block}/{offset} is not in use"
    return block * BLOCK + start, length


def main():
    path, how = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        blob = bytearray(f.read())
    blocks = len(blob) // BLOCK
    meta = PAGE_HEADER
    entry = node_id(blob, meta + 18)
    element_at, _ = tuple_at(blob, *entry)
    assert blob[element_at] == 1, "the entry point is not an element"
    neighbors = node_id(blob, element_at + 4)
    neighbors_at, _ = tuple_at(blob, *neighbors)
    slots = struct.unpack_from("<H", blob, neighbors_at + 2)[0]
    code_bytes = struct.unpack_from("<H", blob, neighbors_at + 4)[0]

    def neighbor_slots():
        """Positions of the entry point's neighbor ids in use, every layer:
        layer 0 has 2m slots of id and code, each layer above m of ids."""
        level = blob[neighbors_at + 1]
        m = slots // (level + 2)
        layer0 = [neighbors_at + 8 + i * (6 + code_bytes) for i in range(2 * m)]
        upper_from = neighbors_at + 8 + 2 * m * (6 + code_bytes)
        upper = [upper_from + i * 6 for i in range(level * m)]
        return [at for at in layer0 + upper if node_id(blob, at)[1] != 0]

    if how == "element-kind":
        # A flipped byte in the element's kind.
        blob[element_at] ^= 0x40
    elif how == "element-flags":
        blob[element_at + 2] ^= 0x80
    elif how == "neighbor-count":
        # A flipped byte in the neighbor tuple's slot count.
        blob[neighbors_at + 2] ^= 0x01
    elif how == "page-kind":
        # The entry point's page says it is a filter directory page.
        special = struct.unpack_from("<H", blob, entry[0] * BLOCK + 16)[0]
        blob[entry[0] * BLOCK + special + 4] = 4
    elif how == "neighbor-past-end":
        for at in neighbor_slots():
            struct.pack_into("<IH", blob, at, blocks + 1000, 1)
    elif how == "entry-past-end":
        struct.pack_into("<IH", blob, meta + 18, blocks + 7, 1)
    elif how == "neighbor-cycle":
        # Every neighbor the entry point lists becomes the entry point itself.
        for at in neighbor_slots():
            struct.pack_into("<IH", blob, at, *entry)
    elif how == "directory-cycle":
        # The filter directory's first page names itself as the next one.
        head = struct.unpack_from("<I", blob, meta + 28)[0]
        assert 0 < head < blocks, "the index has no filter directory"
        special = struct.unpack_from("<H", blob, head * BLOCK + 16)[0]
        struct.pack_into("<I", blob, head * BLOCK + special, head)
    elif how == "future-version":
        struct.pack_into("<I", blob, meta + 4, 99)
    elif how == "vector-byte":
        # A flipped bit in the entry point's vector: a value still finite.
        blob[element_at + ELEMENT_VECTOR_AT + 1] ^= 0x10
    elif how == "truncate-half":
        del blob[(blocks // 2) * BLOCK:]
    elif how == "truncate-all":
        del blob[:]
    else:
        sys.exit(f"unknown damage {how}")
    with open(path, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
