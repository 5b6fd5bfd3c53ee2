#!/usr/bin/env python3
"""baseline_cls: float references for an evotrain classification CSV, numpy only.

Reads a training and a test CSV (header row; the label column is named by
--label, default the last column; the other columns are the inputs). Labels
are class names or integers; the classes are those seen in the training set
(integers sorted numerically, names sorted). Prints the
test accuracy and the per-class recall of
  - multinomial logistic regression (softmax on standardised inputs,
    full-batch Adam),
  - a float MLP of the given hidden widths (ReLU, like evotrain's networks;
    softmax cross-entropy, Adam on minibatches, fixed seed),
as lines "logistic_accuracy: 0.8123", "mlp_accuracy: 0.9412",
"logistic_recall_CLASS: ...", "mlp_recall_CLASS: ...".

  baseline_cls.py TRAIN.csv TEST.csv --hidden 16 16 [--epochs N] [--label NAME]
"""
import argparse
import sys

import numpy as np


def load(path, label):
    with open(path) as f:
        names = f.readline().strip().split(",")
        lines = f.read().split()
    li = names.index(label) if label else len(names) - 1
    cells = np.array([ln.split(",") for ln in lines], dtype=object)
    if cells.ndim != 2 or cells.shape[1] != len(names):
        sys.exit("%s: rows do not all have %d columns" % (path, len(names)))
    keep = [k for k in range(len(names)) if k != li]
    x = cells[:, keep].astype(np.float64)
    return x, [str(s) for s in cells[:, li]], names[li]


def class_list(labels):
    uniq = list(dict.fromkeys(labels))
    try:
        return sorted(uniq, key=int)
    except ValueError:
        return sorted(uniq)


def encode(labels, classes, path):
    pos = {c: k for k, c in enumerate(classes)}
    try:
        return np.array([pos[s] for s in labels], dtype=np.int64)
    except KeyError as e:
        sys.exit("%s: label %s is not a class of the training set" % (path, e))


def softmax_grad(logits, y):
    """Mean cross-entropy's gradient with respect to the logits."""
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


class Adam:
    def __init__(self, params, lr):
        self.p, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(q) for q in params]
        self.v = [np.zeros_like(q) for q in params]

    def step(self, grads, scale=1.0):
        self.t += 1
        c1, c2 = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
        for q, g, m, v in zip(self.p, grads, self.m, self.v):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            q -= (self.lr * scale) * (m / c1) / (np.sqrt(v / c2) + 1e-8)


def logistic(x, y, n_cls, iters=400, l2=1e-4):
    W, B = np.zeros((x.shape[1], n_cls)), np.zeros(n_cls)
    opt = Adam([W, B], 0.05)
    for it in range(iters):
        g = softmax_grad(x @ W + B, y)
        opt.step([x.T @ g + l2 * W, g.sum(0)], 0.1 if it > 0.8 * iters else 1.0)
    return lambda xs: xs @ W + B


def mlp(x, y, n_cls, hidden, epochs, seed, batch=256, lr=3e-3):
    rng = np.random.default_rng(seed)
    sizes = [x.shape[1]] + list(hidden) + [n_cls]
    W = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    B = [np.zeros(b) for b in sizes[1:]]
    opt = Adam(W + B, lr)

    def forward(xs):
        acts = [xs]
        for k in range(len(W)):
            z = acts[-1] @ W[k] + B[k]
            acts.append(np.maximum(z, 0) if k < len(W) - 1 else z)
        return acts

    for ep in range(epochs):
        order = rng.permutation(len(x))
        scale = 0.1 if ep >= 0.8 * epochs else 1.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            acts = forward(x[idx])
            g = softmax_grad(acts[-1], y[idx])
            gW, gB = [None] * len(W), [None] * len(W)
            for k in reversed(range(len(W))):
                gW[k] = acts[k].T @ g
                gB[k] = g.sum(0)
                if k:
                    g = (g @ W[k].T) * (acts[k] > 0)
            opt.step(gW + gB, scale)
    return lambda xs: forward(xs)[-1]


def report(tag, pred, y, classes):
    print("%s_accuracy: %.4f" % (tag, np.mean(pred == y)))
    for k, c in enumerate(classes):
        sel = y == k
        rec = np.mean(pred[sel] == k) if sel.any() else float("nan")
        print("%s_recall_%s: %.4f" % (tag, c, rec))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--label", help="the label column (default the last)")
    ap.add_argument("--hidden", type=int, nargs="+", default=[16, 16])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--confusion", action="store_true",
                    help="also print the MLP's test confusion matrix")
    a = ap.parse_args()
    xtr, ltr, lname = load(a.train, a.label)
    xte, lte, _ = load(a.test, lname)
    classes = class_list(ltr)
    ytr, yte = encode(ltr, classes, a.train), encode(lte, classes, a.test)
    mx, sx = xtr.mean(0), xtr.std(0) + 1e-9
    xtr, xte = (xtr - mx) / sx, (xte - mx) / sx
    print("label: %s  classes: %s  train: %d  test: %d"
          % (lname, " ".join(classes), len(ytr), len(yte)))
    lin = logistic(xtr, ytr, len(classes))
    report("logistic", lin(xte).argmax(1), yte, classes)
    net = mlp(xtr, ytr, len(classes), a.hidden, a.epochs, a.seed)
    pred = net(xte).argmax(1)
    report("mlp", pred, yte, classes)
    print("mlp_train_accuracy: %.4f" % np.mean(net(xtr).argmax(1) == ytr))
    if a.confusion:
        print("confusion (rows true, columns predicted): " + " ".join(classes))
        for k, c in enumerate(classes):
            print("%8s " % c + " ".join("%6d" % np.sum((yte == k) & (pred == j))
                                         for j in range(len(classes))))


if __name__ == "__main__":
    main()
