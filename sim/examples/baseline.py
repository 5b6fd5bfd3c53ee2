#!/usr/bin/env python3
"""baseline: float references for an evotrain CSV task, with numpy only.

Reads a training and a test CSV (header row; the last T columns are the
targets, the rest the inputs) and prints the test RMSE of each target for
  - linear least squares on the inputs,
  - a float MLP of the given hidden widths (ReLU, like evotrain's networks),
    trained with Adam on standardised inputs and targets.
These are what the integer network trained by evotrain is compared with.

  baseline.py TRAIN.csv TEST.csv --targets 2 --hidden 8 8 [--epochs 60]
"""
import argparse

import numpy as np


def load(path, n_targets):
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    with open(path) as f:
        names = f.readline().strip().split(",")
    return d[:, :-n_targets], d[:, -n_targets:], names[-n_targets:]


def rmse(pred, y):
    return np.sqrt(np.mean((pred - y) ** 2, axis=0))


def mlp(xtr, ytr, hidden, epochs, seed):
    rng = np.random.default_rng(seed)
    mx, sx = xtr.mean(0), xtr.std(0) + 1e-9
    my, sy = ytr.mean(0), ytr.std(0) + 1e-9
    x, y = (xtr - mx) / sx, (ytr - my) / sy
    sizes = [x.shape[1]] + list(hidden) + [y.shape[1]]
    W = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    B = [np.zeros(b) for b in sizes[1:]]
    params = W + B
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step, lr, bs = 0, 3e-3, 256
    for ep in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), bs):
            idx = order[i:i + bs]
            acts = [x[idx]]
            for k in range(len(W)):
                z = acts[-1] @ W[k] + B[k]
                acts.append(np.maximum(z, 0) if k < len(W) - 1 else z)
            g = 2 * (acts[-1] - y[idx]) / len(idx)
            gW, gB = [None] * len(W), [None] * len(W)
            for k in reversed(range(len(W))):
                gW[k] = acts[k].T @ g
                gB[k] = g.sum(0)
                if k:
                    g = (g @ W[k].T) * (acts[k] > 0)
            step += 1
            lr_t = lr * (0.1 if ep > 0.8 * epochs else 1)
            for j, gr in enumerate(gW + gB):
                m[j] = 0.9 * m[j] + 0.1 * gr
                v[j] = 0.999 * v[j] + 0.001 * gr * gr
                mh, vh = m[j] / (1 - 0.9 ** step), v[j] / (1 - 0.999 ** step)
                params[j] -= lr_t * mh / (np.sqrt(vh) + 1e-8)
            W, B = params[:len(W)], params[len(W):]

    def predict(xs):
        a = (xs - mx) / sx
        for k in range(len(W)):
            a = a @ W[k] + B[k]
            if k < len(W) - 1:
                a = np.maximum(a, 0)
        return a * sy + my
    return predict


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--targets", type=int, required=True)
    ap.add_argument("--hidden", type=int, nargs="+", default=[8, 8])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    xtr, ytr, names = load(a.train, a.targets)
    xte, yte, _ = load(a.test, a.targets)
    A = np.hstack([xtr, np.ones((len(xtr), 1))])
    coef, *_ = np.linalg.lstsq(A, ytr, rcond=None)
    lin = rmse(np.hstack([xte, np.ones((len(xte), 1))]) @ coef, yte)
    net = mlp(xtr, ytr, a.hidden, a.epochs, a.seed)
    fl = rmse(net(xte), yte)
    print("target,linear_least_squares_rmse,float_mlp_%s_rmse" % "_".join(map(str, a.hidden)))
    for k, n in enumerate(names):
        print("%s,%.4f,%.4f" % (n, lin[k], fl[k]))


if __name__ == "__main__":
    main()
