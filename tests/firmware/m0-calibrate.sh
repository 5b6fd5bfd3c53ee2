#!/bin/bash
# Measures the -O2 kernel's Cortex-M0 cycles per inference for several trained
# network shapes (the bench-m0 method: QEMU microbit and the m0cycles plugin),
# the data behind the cost model in src/report.c. Needs `make bench-m0` first
# (for build/fw/vectors.h and build/fw/libm0cycles.so). Prints one line per shape.
set -euo pipefail
cd "$(dirname "$0")/../.."
FW=build/fw
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for h in "8 8" "16 16" "32" "32 32" "24 16 8" "64" "12"; do
  tag=$(echo "$h" | tr ' ' _)
  d=$T/$tag
  mkdir -p "$d"
  sed -e "s/^hidden = .*/hidden = $h/" -e "s/^name = tiny/name = cal_$tag/" tests/data/tiny.ini > "$d/c.ini"
  ./evotrain --config "$d/c.ini" --out "$d" --force -q
  ./evotrain export "$d/cal_$tag" -o "$d/fixture_net.h" --name fixture_net -q
  cp $FW/vectors.h "$d/"
  arm-none-eabi-gcc -std=c99 -mcpu=cortex-m0 -mthumb -ffreestanding -fno-tree-loop-distribute-patterns \
    -O2 -Iinclude -I"$d" -nostdlib -T tests/firmware/m0.ld -Wl,--gc-sections -o "$d/fw.elf" \
    tests/firmware/startup.c tests/firmware/fw_main.c src/evonet.c
  b=$(arm-none-eabi-nm "$d/fw.elf" | awk '/ bench_begin$/{print $1}')
  e=$(arm-none-eabi-nm "$d/fw.elf" | awk '/ bench_end$/{print $1}')
  # The image's own self-test fails (the vectors belong to another network); only the timing counts.
  timeout 60 qemu-system-arm -M microbit -display none -monitor none -serial none \
    -chardev stdio,id=sh -semihosting-config enable=on,target=native,chardev=sh \
    -kernel "$d/fw.elf" -d plugin -D "$d/cycles.log" \
    -plugin $FW/libm0cycles.so,begin=0x$b,end=0x$e > /dev/null || true
  echo "18 $h 6: $(grep '^region 0' "$d/cycles.log")"
done
