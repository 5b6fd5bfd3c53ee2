#!/bin/bash
# Measures the -O2 kernel's Cortex-M0 cycles per inference for several trained
# network shapes (the bench-m0 method: QEMU microbit and the m0cycles plugin)
# and fits the cost model of src/cli/report.c to them by least squares:
#
#   cycles = C_FIXED + C_MAC * lanes + C_OUT * outputs + C_GROUP * groups
#
# lanes, outputs and groups are counted as net_cost() in src/cli/report.c counts
# them (keep the two in step). Needs ./evotrain (make) and `make bench-m0` first
# (build/fw/vectors.h, build/fw/libm0cycles.so, build/fw/cycles_O2.log).
# Prints one line per shape, the fitted constants with the largest relative
# error, and the model against bench-m0's own 18-16-16-6 measurement; copy the
# constants and the error figures into src/cli/report.c.
set -euo pipefail
cd "$(dirname "$0")/../.."
FW=build/fw
for f in ./evotrain $FW/vectors.h $FW/libm0cycles.so $FW/cycles_O2.log; do
  [ -e "$f" ] || { echo "m0-calibrate: $f missing; run make and make bench-m0 first" >&2; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# lanes, outputs and groups of a network given as "n_in h1 h2 ... n_out".
features() {
  echo "$@" | awk '{
    lanes = 0; outs = 0; groups = 0
    for (l = 1; l < NF; l++) {
      ni = $l; no = $(l + 1); last = l + 1 == NF
      outs += no
      for (left = no;; left -= 8) {
        groups++
        if (left <= 4) { lanes += ni * 4; break }
        lanes += ni * (last && left <= 6 ? 6 : 8)
        if (left <= 8) break
      }
    }
    print lanes, outs, groups
  }'
}

: > "$T/data"
for h in "8 8" "16 16" "32" "32 32" "24 16 8" "64" "12" "48 24" "4 4 4"; do
  tag=$(echo "$h" | tr ' ' _)
  d=$T/$tag
  mkdir -p "$d"
  sed -e "s/^hidden = .*/hidden = $h/" -e "s/^name = tiny/name = cal_$tag/" tests/data/tiny.ini > "$d/c.ini"
  ./evotrain --config "$d/c.ini" --out "$d" --force -q
  ./evotrain export "$d/cal_$tag" -o "$d/fixture_net.h" --name fixture_net -q
  cp $FW/vectors.h "$d/"
  arm-none-eabi-gcc -std=c99 -mcpu=cortex-m0 -mthumb -ffreestanding -fno-tree-loop-distribute-patterns \
    -O2 -Iinclude -I"$d" -nostdlib -T tests/firmware/m0.ld -Wl,--gc-sections -o "$d/fw.elf" \
    tests/firmware/startup.c tests/firmware/fw_main.c src/kernel/evonet.c
  b=$(arm-none-eabi-nm "$d/fw.elf" | awk '/ bench_begin$/{print $1}')
  e=$(arm-none-eabi-nm "$d/fw.elf" | awk '/ bench_end$/{print $1}')
  # The image's own self-test fails (the vectors belong to another network); only the timing counts.
  timeout 60 qemu-system-arm -M microbit -display none -monitor none -serial none \
    -chardev stdio,id=sh -semihosting-config enable=on,target=native,chardev=sh \
    -kernel "$d/fw.elf" -d plugin -D "$d/cycles.log" \
    -plugin $FW/libm0cycles.so,begin=0x$b,end=0x$e > /dev/null || true
  cyc=$(awk -F'[ =]' '/^region 0:/{print $6}' "$d/cycles.log")
  [ -n "$cyc" ] || { echo "m0-calibrate: no cycle count for 18 $h 6" >&2; exit 1; }
  f=$(features 18 $h 6)
  echo "18 $h 6: lanes outputs groups = $f, cycles_m0 = $cyc"
  echo "$f $cyc" >> "$T/data"
done

ref=$(awk -F'[ =]' '/^region 0:/{print $6}' $FW/cycles_O2.log)
# Least squares by the normal equations (4 x 4, Gaussian elimination).
awk -v ref="$ref" -v reff="$(features 18 16 16 6)" '
  { x[NR, 1] = 1; x[NR, 2] = $1; x[NR, 3] = $2; x[NR, 4] = $3; y[NR] = $4 }
  END {
    n = NR
    for (i = 1; i <= 4; i++) {
      for (j = 1; j <= 4; j++) { a[i, j] = 0; for (r = 1; r <= n; r++) a[i, j] += x[r, i] * x[r, j] }
      a[i, 5] = 0; for (r = 1; r <= n; r++) a[i, 5] += x[r, i] * y[r]
    }
    for (i = 1; i <= 4; i++) {
      p = i; for (r = i + 1; r <= 4; r++) if ((a[r, i] < 0 ? -a[r, i] : a[r, i]) > (a[p, i] < 0 ? -a[p, i] : a[p, i])) p = r
      for (j = 1; j <= 5; j++) { t = a[i, j]; a[i, j] = a[p, j]; a[p, j] = t }
      for (r = 1; r <= 4; r++) if (r != i) { f = a[r, i] / a[i, i]; for (j = i; j <= 5; j++) a[r, j] -= f * a[i, j] }
    }
    for (i = 1; i <= 4; i++) c[i] = a[i, 5] / a[i, i]
    worst = 0
    for (r = 1; r <= n; r++) {
      m = c[1] + c[2] * x[r, 2] + c[3] * x[r, 3] + c[4] * x[r, 4]
      e = (m - y[r]) / y[r]; if (e < 0) e = -e; if (e > worst) worst = e
    }
    printf "fit over %d shapes: C_FIXED %.1f, C_MAC %.2f, C_OUT %.2f, C_GROUP %.1f; largest error %.1f %%\n",
      n, c[1], c[2], c[3], c[4], 100 * worst
    split(reff, g, " ")
    m = c[1] + c[2] * g[1] + c[3] * g[2] + c[4] * g[3]
    printf "bench-m0 fixture 18-16-16-6: model %.0f, measured %d (%.1f %%)\n", m, ref, 100 * (m - ref) / ref
  }' "$T/data"
