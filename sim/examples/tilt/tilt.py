#!/usr/bin/env python3
"""tilt: roll and pitch (degrees) from a 3-axis accelerometer, for evotrain.

A board at rest is tilted by roll (about x) and pitch (about y), both drawn
uniformly in [-60, 60] degrees. Its accelerometer reads gravity in the board's
frame, (-sin p, sin r cos p, cos r cos p) g, plus Gaussian noise (0.01 g per
axis), converted by a 12-bit ADC over +-2 g (1 count = 4/4096 g, clamped to
[-2048, 2047]). Inputs: ax, ay, az (counts); targets: roll, pitch (deg).

Sample i is a pure function of (seed, i): every random number is splitmix64
of a counter built from (seed, i, draw), vectorised over numpy uint64 arrays,
so any chunking, any number of workers, gives the same bits.

Usage:
  tilt.py                 speak evotrain's command protocol (source.h) on
                          stdin/stdout: the handshake, then answer requests
                          "SEED FIRST COUNT" with COUNT rows "ax ay az roll pitch"
  tilt.py --csv N [--seed S] [-o FILE]
                          write N samples as CSV (header ax,ay,az,roll,pitch;
                          the format evotrain's csv source reads) to FILE or stdout
"""
import argparse
import sys

import numpy as np

RANGE_DEG = 60.0
NOISE_G = 0.01
LSB_G = 4.0 / 4096.0
CLAMP = (-2048, 2047)
DRAWS = 8  # counters per sample: 2 angles, 4 for 3 Box-Muller normals, 2 spare

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x):
    """The splitmix64 finalizer on a uint64 array (wrapping arithmetic)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniforms(seed, first, count):
    """count x DRAWS uniforms in (0, 1), each from (seed, index, draw) only."""
    key = splitmix64(np.array([seed], dtype=np.uint64))
    idx = np.arange(count, dtype=np.uint64) + np.uint64(first)
    ctr = idx[:, None] * np.uint64(DRAWS) + np.arange(DRAWS, dtype=np.uint64)[None, :]
    bits = splitmix64(ctr ^ key)
    # 53 random bits, shifted off zero so that log() below is finite.
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def samples(seed, first, count):
    """(counts int16 count x 3, angles float64 count x 2) for samples first.."""
    with np.errstate(over="ignore"):
        u = uniforms(seed, first, count)
    roll = (2.0 * u[:, 0] - 1.0) * RANGE_DEG
    pitch = (2.0 * u[:, 1] - 1.0) * RANGE_DEG
    r, p = np.radians(roll), np.radians(pitch)
    g = np.stack([-np.sin(p), np.sin(r) * np.cos(p), np.cos(r) * np.cos(p)], axis=1)
    # Box-Muller: two uniforms give two normals; three are used.
    rad1 = np.sqrt(-2.0 * np.log(u[:, 2]))
    rad2 = np.sqrt(-2.0 * np.log(u[:, 4]))
    n = np.stack([rad1 * np.cos(2 * np.pi * u[:, 3]), rad1 * np.sin(2 * np.pi * u[:, 3]),
                  rad2 * np.cos(2 * np.pi * u[:, 5])], axis=1)
    a = g + NOISE_G * n
    # round half away from zero, as the magnet simulator's ADC does
    c = np.sign(a) * np.floor(np.abs(a) / LSB_G + 0.5)
    counts = np.clip(c, CLAMP[0], CLAMP[1]).astype(np.int16)
    return counts, np.stack([roll, pitch], axis=1)


def rows(seed, first, count, sep):
    """The samples as text lines (targets with 9 decimals: a micro-degree
    is far below what a network resolves, and text is what is compared)."""
    counts, ang = samples(seed, first, count)
    fmt = sep.join(["%d"] * 3 + ["%.9f"] * 2) + "\n"
    flat = np.empty((count, 5), dtype=object)
    flat[:, :3] = counts.astype(np.int64)
    flat[:, 3:] = ang
    return (fmt * count) % tuple(flat.ravel().tolist())


def serve():
    out = sys.stdout
    out.write("evotrain-sim 1\n"
              "input ax counts\ninput ay counts\ninput az counts\n"
              "output roll deg\noutput pitch deg\nready\n")
    out.flush()
    for line in sys.stdin:
        seed, first, count = (int(f) for f in line.split())
        if count:
            out.write(rows(seed, first, count, " "))
        out.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=int, metavar="N", help="write N samples as CSV")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", metavar="FILE", help="CSV output file (default stdout)")
    a = ap.parse_args()
    if a.csv is None:
        serve()
        return
    out = open(a.o, "w") if a.o else sys.stdout
    out.write("ax,ay,az,roll,pitch\n")
    step = 65536
    for first in range(0, a.csv, step):
        out.write(rows(a.seed, first, min(step, a.csv - first), ","))
    if a.o:
        out.close()


if __name__ == "__main__":
    main()
