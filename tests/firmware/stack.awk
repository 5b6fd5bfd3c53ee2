# stack.awk: the stack evonet_forward takes, from a -fcallgraph-info=su file
# (GCC's call graph, in VCG, with each function's -fstack-usage frame): its
# frame plus that of its deepest chain of callees. Fails on a dynamic frame
# (one -fstack-usage cannot bound) or a call it cannot follow (an external
# function, which the kernel must not have anyway).
# awk runs END after an exit: it must not measure then.
function fail(msg) {
    print "stack.awk: " msg > "/dev/stderr"
    failed = 1
    exit 2
}
function deepest(f,    e, d, best) {
    if (f in seen) { fail("recursion through " f) }
    if (!(f in frame)) { fail("no frame size for " f) }
    seen[f] = 1
    best = 0
    for (e = 1; e <= n_edge; e++)
        if (from[e] == f) {
            d = deepest(to[e])
            if (d > best)
                best = d
        }
    delete seen[f]
    return frame[f] + best
}
/^node:/ {
    t = $0; sub(/.*title: "/, "", t); sub(/".*/, "", t)
    l = $0
    if (l ~ /bytes \((dynamic|bounded)/) { fail("dynamic frame in " t) }
    if (match(l, /[0-9]+ bytes \(static\)/)) {
        b = substr(l, RSTART, RLENGTH); sub(/ .*/, "", b)
        frame[t] = b + 0
    }
}
/^edge:/ {
    s = $0; sub(/.*sourcename: "/, "", s); sub(/".*/, "", s)
    d = $0; sub(/.*targetname: "/, "", d); sub(/".*/, "", d)
    n_edge++; from[n_edge] = s; to[n_edge] = d
}
END {
    if (!failed)
        print deepest("evonet_forward")
}
