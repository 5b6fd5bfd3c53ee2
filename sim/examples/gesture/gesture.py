#!/usr/bin/env python3
"""gesture: classify a 0.8 s window of a 3-axis accelerometer, for evotrain.

A wrist or handheld device carries a 3-axis accelerometer sampled at 10 Hz;
one sample is a window of 8 readings (0.8 s). The class is the motion:

  index  name   what the device does
  0      still  held still: gravity, physiological tremor, a slow sway
  1      walk   walking, 1.6-2.2 steps/s: vertical bounce 0.08-0.7 g (with a
                second harmonic), a forward surge at the step rate, a lateral
                sway and an arm swing at half of it, the wrist turning with
                the swing by up to 20 deg
  2      run    running, 2.5-3.2 steps/s: vertical impacts 0.25-1.2 g (a
                periodic pulse, from near-sinusoidal to sharp), larger
                forward, lateral and arm-swing motion, the wrist turning by
                5-30 deg
  3      wave   waving, 1-3 Hz, 0.15-1 g along a device direction within
                +-30 deg of x in the x-y plane, some across it, a centripetal
                part at 2f on z, the wrist turning by up to 30 deg about the
                forearm (device y), which swings gravity between x and z
  4      tap    a still device tapped once or twice (a 10-35 ms pulse of
                0.5-3 g, mostly along -z, at a random time; a short pulse
                between two readings can be missed, as on a real 10 Hz
                sensor, so some taps look still: the main confusion)

Nuisances, drawn for every sample: the device orientation (roll and pitch
uniform in +-40 deg, yaw uniform in 0..360 deg: gravity and the world's
horizontal directions land on any device axes), the motion's amplitude,
frequency and phases, tremor (0.005-0.04 g at 8-12 Hz, aliased by the 10 Hz
sampling), a slow sway (still and tap, up to 0.1 g at 0.2-0.8 Hz), a bias
per axis (+-0.04 g) and a gain (+-3 %), sensor noise (0.02 g per axis and
reading). The accelerometer reads the specific force (motion minus gravity:
+1 g up at rest) in the device frame, converted by a 12-bit ADC over +-4 g
(1 count = 8/4096 g, rounded half away from zero, clamped to [-2048, 2047]).

Float references (baseline_cls.py, 50000 training rows of seed 1, 10000 test
rows of seed 2): logistic regression about 0.32, an MLP 24-16-16-5 about
0.92-0.93, an MLP 24-64-64-5 about 0.96.

Inputs (24, unit "count", interleaved per reading):
  ax0 ay0 az0 ax1 ay1 az1 ... ax7 ay7 az7
Output: gesture, the class index (0..4) in the order above.

Classes are drawn uniformly; --weights p0,p1,p2,p3,p4 draws them with those
relative probabilities instead (for testing class weights). The weights are
part of the simulator: the same (seed, i, weights) give the same sample.

Sample i is a pure function of (seed, i): every random number is splitmix64
of a counter built from (seed, i, draw), vectorised over numpy uint64 arrays,
so any chunking, any number of workers, gives the same bits.

Usage:
  gesture.py [--weights W]
        speak evotrain's command protocol (src/data/source.h) on stdin/stdout:
        the handshake (24 inputs, one output "gesture -"), then answer requests
        "SEED FIRST COUNT" with COUNT rows "ax0 ay0 az0 ... az7 class_index"
  gesture.py --csv N [--seed S] [-o FILE] [--csv-index] [--weights W]
        write N samples as CSV, header ax0,ay0,...,az7,gesture; the gesture
        column holds the class name (still, walk, ...), or with --csv-index
        the class index

Self-check of the chunking property (prints "ok"):
  /usr/bin/python3 -c 'import sys; sys.path.insert(0, "sim/examples/gesture");
  import gesture as g; a = g.rows(7, 0, 100, " "); b = g.rows(7, 0, 1000, " ");
  c = g.rows(7, 0, 37, " ") + g.rows(7, 37, 63, " ");
  assert a == c == "".join(b.splitlines(True)[:100]); print("ok")'
"""
import argparse
import sys

import numpy as np

CLASSES = ("still", "walk", "run", "wave", "tap")
N_STEPS = 8
RATE_HZ = 10.0
AXES = "xyz"
INPUTS = ["a%s%d" % (ax, k) for k in range(N_STEPS) for ax in AXES]

TILT_DEG = 40.0
NOISE_G = 0.02
BIAS_G = 0.04
GAIN = 0.03
LSB_G = 8.0 / 4096.0
CLAMP = (-2048, 2047)
# Counters per sample. Slots: 0 class, 1-3 orientation, 4-7 bias and gain,
# 8-12 tremor, 13-24 gait and wave, 25-32 tap, 33-37 sway, 38-39 arm swing,
# 40-63 sensor noise (24 normals), 64-65 wrist turn, 66-71 spare.
DRAWS = 72

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


def between(u, lo, hi):
    return lo + (hi - lo) * u


def normals(u):
    """Box-Muller: a count x 2k array of uniforms gives 2k normals per row."""
    rad = np.sqrt(-2.0 * np.log(u[:, 0::2]))
    ang = 2.0 * np.pi * u[:, 1::2]
    return np.concatenate([rad * np.cos(ang), rad * np.sin(ang)], axis=1)


def classes_of(u, weights):
    """The class of each sample from one uniform, by the cumulative weights."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w) / w.sum()
    return np.minimum(np.searchsorted(cum, u, side="right"), len(w) - 1)


def samples(seed, first, count, weights=(1, 1, 1, 1, 1)):
    """(counts int16 count x 24, class int64 count) for samples first.."""
    with np.errstate(over="ignore"):
        u = uniforms(seed, first, count)
    cls = classes_of(u[:, 0], weights)
    t = np.arange(N_STEPS, dtype=np.float64)[None, :] / RATE_HZ  # 1 x 8
    zero = np.zeros((count, N_STEPS))
    two_pi = 2.0 * np.pi

    # Device orientation: R = Rz(yaw) Ry(pitch) Rx(roll) maps device to world;
    # a world vector v reads R^T v on the device.
    roll = np.radians(between(u[:, 1], -TILT_DEG, TILT_DEG))
    pitch = np.radians(between(u[:, 2], -TILT_DEG, TILT_DEG))
    yaw = between(u[:, 3], 0.0, two_pi)
    cr, sr, cp, sp, cy, sy = (np.cos(roll), np.sin(roll), np.cos(pitch),
                              np.sin(pitch), np.cos(yaw), np.sin(yaw))
    one, nil = np.ones(count), np.zeros(count)
    rx = np.stack([one, nil, nil, nil, cr, -sr, nil, sr, cr], 1).reshape(-1, 3, 3)
    ry = np.stack([cp, nil, sp, nil, one, nil, -sp, nil, cp], 1).reshape(-1, 3, 3)
    rz = np.stack([cy, -sy, nil, sy, cy, nil, nil, nil, one], 1).reshape(-1, 3, 3)
    rot = rz @ ry @ rx

    # World-frame motion (x forward, y left, z up), in g: walk and run.
    f = np.where(cls == 2, between(u[:, 13], 2.5, 3.2), between(u[:, 13], 1.6, 2.2))[:, None]
    ph = two_pi * u[:, 15][:, None]
    step = two_pi * f * t + ph
    # walk: a sinusoidal bounce with a second harmonic
    a_walk = between(u[:, 14], 0.08, 0.70)[:, None]
    h2 = between(u[:, 20], 0.0, 0.35)[:, None]
    walk_z = a_walk * (np.cos(step) + h2 * np.cos(2.0 * step + two_pi * u[:, 21][:, None]))
    # run: impacts, exp(kappa (cos - 1)) less its mean over a cycle
    kappa = between(u[:, 20], 1.0, 6.0)[:, None]
    a_run = between(u[:, 14], 0.25, 1.20)[:, None]
    pulse = np.exp(kappa * (np.cos(step) - 1.0)) - np.exp(-kappa) * np.i0(kappa)
    run_z = a_run * pulse / (1.0 - np.exp(-kappa) * np.i0(kappa))
    is_run = (cls == 2)[:, None]
    fwd_amp = np.where(is_run, between(u[:, 16], 0.15, 0.50)[:, None],
                       between(u[:, 16], 0.05, 0.25)[:, None])
    lat_amp = np.where(is_run, between(u[:, 18], 0.05, 0.25)[:, None],
                       between(u[:, 18], 0.03, 0.12)[:, None])
    swing = np.where(is_run, between(u[:, 38], 0.10, 0.50)[:, None],
                     between(u[:, 38], 0.0, 0.30)[:, None])
    gait_x = (fwd_amp * np.cos(step + two_pi * u[:, 17][:, None])
              + swing * np.cos(0.5 * step + two_pi * u[:, 39][:, None]))
    gait_y = lat_amp * np.cos(0.5 * step + two_pi * u[:, 19][:, None])
    gait_z = np.where(is_run, run_z, walk_z)
    is_gait = ((cls == 1) | (cls == 2))[:, None]
    world = np.stack([np.where(is_gait, gait_x, zero), np.where(is_gait, gait_y, zero),
                      np.where(is_gait, gait_z, zero) + 1.0], axis=2)  # count x 8 x 3
    dev = np.einsum("nji,ntj->nti", rot, world)  # R^T v for each reading

    # Device-frame motion: wave, tap, tremor and sway.
    is_wave = (cls == 3)[:, None]
    fw = between(u[:, 13], 1.0, 3.0)[:, None]
    a_wave = between(u[:, 14], 0.15, 1.00)[:, None]
    wph = two_pi * fw * t + ph
    # along a device direction within +-30 deg of x in the x-y plane, with
    # some of it across that (0-30 %) and a centripetal part on z
    alpha = np.radians(between(u[:, 21], -30.0, 30.0))[:, None]
    along = a_wave * np.cos(wph)
    across = (between(u[:, 22], 0.0, 0.30)[:, None] * a_wave
              * np.cos(wph + two_pi * u[:, 23][:, None]))
    wave = np.stack([np.cos(alpha) * along - np.sin(alpha) * across,
                     np.sin(alpha) * along + np.cos(alpha) * across,
                     between(u[:, 24], 0.0, 0.20)[:, None] * a_wave * np.cos(2.0 * wph)],
                    axis=2)
    dev += np.where(is_wave[:, :, None], wave, 0.0)

    is_tap = (cls == 4)[:, None]
    width = between(u[:, 29], 0.010, 0.035)[:, None]
    t0 = between(u[:, 25], 0.0, 0.75)[:, None]
    t1 = t0 + between(u[:, 26], 0.15, 0.35)[:, None]
    second = (u[:, 27] < 0.5)[:, None]
    amp0 = between(u[:, 28], 0.5, 3.0)[:, None]
    amp1 = amp0 * between(u[:, 30], 0.5, 1.0)[:, None]
    taps = (amp0 * np.exp(-0.5 * ((t - t0) / width) ** 2)
            + np.where(second, amp1 * np.exp(-0.5 * ((t - t1) / width) ** 2), 0.0))
    tdir = np.stack([between(u[:, 31], -0.3, 0.3), between(u[:, 32], -0.3, 0.3),
                     -np.ones(count)], axis=1)
    tdir /= np.linalg.norm(tdir, axis=1, keepdims=True)
    dev += np.where(is_tap[:, :, None], taps[:, :, None] * tdir[:, None, :], 0.0)

    # The wrist turns with the arm swing (walk, run: at half the step rate)
    # and with the wave (about the device y axis, the forearm): everything
    # the device reads, gravity included, turns by beta(t) about y.
    b_amp = np.radians(np.select([cls == 1, cls == 2, cls == 3],
                                 [between(u[:, 64], 0.0, 20.0), between(u[:, 64], 5.0, 30.0),
                                  between(u[:, 64], 0.0, 30.0)], 0.0))[:, None]
    b_arg = np.where(is_wave, wph, 0.5 * step) + two_pi * u[:, 65][:, None]
    beta = b_amp * np.cos(b_arg)
    cb, sb = np.cos(beta), np.sin(beta)
    dx, dz = dev[:, :, 0].copy(), dev[:, :, 2].copy()
    dev[:, :, 0] = cb * dx - sb * dz
    dev[:, :, 2] = sb * dx + cb * dz

    # Everyone: tremor (8-12 Hz, along a random device direction) and, for
    # still and tap, a slow sway of the hand (0.2-0.8 Hz).
    def direction(ua, ub):
        z = 2.0 * ua - 1.0
        s = np.sqrt(1.0 - z * z)
        phi = two_pi * ub
        return np.stack([s * np.cos(phi), s * np.sin(phi), z], axis=1)

    trem = (between(u[:, 8], 0.005, 0.04)[:, None]
            * np.cos(two_pi * between(u[:, 9], 8.0, 12.0)[:, None] * t
                     + two_pi * u[:, 10][:, None]))
    dev += trem[:, :, None] * direction(u[:, 11], u[:, 12])[:, None, :]
    is_calm = ((cls == 0) | (cls == 4))[:, None]
    sway = (np.where(is_calm, between(u[:, 33], 0.0, 0.10)[:, None], 0.0)
            * np.cos(two_pi * between(u[:, 34], 0.2, 0.8)[:, None] * t
                     + two_pi * u[:, 35][:, None]))
    dev += sway[:, :, None] * direction(u[:, 36], u[:, 37])[:, None, :]

    # The sensor: gain, bias, noise, ADC.
    bias = np.stack([between(u[:, k], -BIAS_G, BIAS_G) for k in (4, 5, 6)], axis=1)
    gain = between(u[:, 7], 1.0 - GAIN, 1.0 + GAIN)
    noise = normals(u[:, 40:40 + 3 * N_STEPS]).reshape(count, N_STEPS, 3)
    a = gain[:, None, None] * dev + bias[:, None, :] + NOISE_G * noise
    c = np.sign(a) * np.floor(np.abs(a) / LSB_G + 0.5)
    counts = np.clip(c, CLAMP[0], CLAMP[1]).astype(np.int16).reshape(count, 3 * N_STEPS)
    return counts, cls.astype(np.int64)


def rows(seed, first, count, sep, weights=(1, 1, 1, 1, 1), names=False):
    """The samples as text lines: 24 counts, then the class (index or name)."""
    counts, cls = samples(seed, first, count, weights)
    n = 3 * N_STEPS
    fmt = sep.join(["%d"] * n + ["%s" if names else "%d"]) + "\n"
    flat = np.empty((count, n + 1), dtype=object)
    flat[:, :n] = counts.astype(np.int64)
    flat[:, n] = np.array(CLASSES, dtype=object)[cls] if names else cls
    return (fmt * count) % tuple(flat.ravel().tolist())


def serve(weights):
    out = sys.stdout
    out.write("evotrain-sim 1\n"
              + "".join("input %s count\n" % name for name in INPUTS)
              + "output gesture -\nready\n")
    out.flush()
    for line in sys.stdin:
        seed, first, count = (int(f) for f in line.split())
        step = 65536
        for lo in range(first, first + count, step):
            out.write(rows(seed, lo, min(step, first + count - lo), " ", weights))
        out.flush()


def parse_weights(text):
    w = [float(x) for x in text.split(",")]
    if len(w) != len(CLASSES) or min(w) < 0 or sum(w) <= 0:
        raise argparse.ArgumentTypeError(
            "--weights wants %d non-negative numbers, not all 0" % len(CLASSES))
    return tuple(w)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=int, metavar="N", help="write N samples as CSV")
    ap.add_argument("--csv-index", action="store_true",
                    help="CSV label column as the class index, not the name")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--weights", type=parse_weights, default=(1, 1, 1, 1, 1),
                    metavar="P0,..,P4", help="relative class probabilities")
    ap.add_argument("-o", metavar="FILE", help="CSV output file (default stdout)")
    a = ap.parse_args()
    if a.csv is None:
        serve(a.weights)
        return
    out = open(a.o, "w") if a.o else sys.stdout
    out.write(",".join(INPUTS + ["gesture"]) + "\n")
    step = 65536
    for first in range(0, a.csv, step):
        out.write(rows(a.seed, first, min(step, a.csv - first), ",", a.weights,
                       names=not a.csv_index))
    if a.o:
        out.close()


if __name__ == "__main__":
    main()
