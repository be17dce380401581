#!/usr/bin/env python3
"""Writes N small distinct RGB PNGs (and optionally some broken files) into a
folder, for the dataset-scale plan and sweep benchmarks in docs/BENCHMARKS.md.

usage: make_photo_folder.py FOLDER N [--size PX] [--broken K]
"""
import argparse
import os
import struct
import zlib


def png(width, height, seed):
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 7 + seed) % 256, (y * 5 + seed * 3) % 256, (x + y + seed * 11) % 256))
    # The first pixel spells the seed, so that every image (and its hash) differs.
    rows[1:4] = bytes((seed & 255, (seed >> 8) & 255, (seed >> 16) & 255))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 1)) + chunk(b"IEND", b"")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("count", type=int)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--broken", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    for i in range(args.count):
        with open(os.path.join(args.folder, "img%06d.png" % i), "wb") as out:
            out.write(png(args.size, args.size, i))
    for i in range(args.broken):
        with open(os.path.join(args.folder, "broken%03d.jpg" % i), "wb") as out:
            out.write(b"<html>404 not found</html>")


if __name__ == "__main__":
    main()
