#!/usr/bin/env python3
"""icons - draws web/icons/icon-192.png and icon-512.png, the PNG forms of
web/icons/icon.svg (same shapes, in its 64-unit space), for browsers and
home screens that want bitmaps. Full-bleed background: the icons are
"maskable". Standard library only; run it again after changing the design:
    python3 tools/icons.py web/icons
"""
import os
import struct
import sys
import zlib

BG = (0x1F, 0x6F, 0x5C)
FG = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis, per pixel: anti-aliased edges


def in_rounded_rect(x, y, x0, y0, x1, y1, r):
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def in_tail(x, y):
    # triangle (30,45) (20,53) (20,45)
    if x < 20 or y < 45:
        return False
    return (x - 20) * 8 + (y - 45) * 10 <= 80


def colour_at(x, y):
    """The icon's colour at a point of the 64x64 design."""
    for cx in (22, 32, 42):
        if (x - cx) ** 2 + (y - 31) ** 2 <= 3.5 ** 2:
            return BG
    if in_rounded_rect(x, y, 10, 17, 54, 45, 5) or in_tail(x, y):
        return FG
    return BG


def draw(size):
    rows = []
    scale = 64.0 / size
    for py in range(size):
        row = bytearray([0])  # filter: none
        for px in range(size):
            acc = [0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c = colour_at((px + (sx + 0.5) / SAMPLES) * scale,
                                  (py + (sy + 0.5) / SAMPLES) * scale)
                    for i in range(3):
                        acc[i] += c[i]
            row += bytes(round(v / SAMPLES ** 2) for v in acc)
        rows.append(bytes(row))
    return b"".join(rows)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png(size):
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(draw(size), 9)) + chunk(b"IEND", b""))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "web/icons"
    for size in (192, 512):
        path = os.path.join(out, f"icon-{size}.png")
        with open(path, "wb") as f:
            f.write(png(size))
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
