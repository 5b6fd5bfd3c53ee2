#!/bin/sh
# make bench-mpi: generations per second of the pose network (configs/pose.ini,
# lambda 92, minibatch 1024) with 1 and 2 MPI ranks of one thread each, and
# the parallel efficiency. Prints name: value lines; never fails on speed.
set -eu
bin=${1:-./evotrain-mpi}
gens=${GENS:-400}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="--allow-run-as-root --oversubscribe ${MPIRUN_FLAGS:-}"
rate() {
    start=$(date +%s.%N)
    mpirun $flags -n "$1" "$bin" --config configs/pose.ini --out "$out" --name "p$1" --force \
        --threads 1 --time-limit 0 --max-generations "$gens" -q
    end=$(date +%s.%N)
    # Setup (simulating the sample pool) and one generation are timed apart
    # and taken out (a budget of 0 would mean no limit).
    s0=$(date +%s.%N)
    mpirun $flags -n "$1" "$bin" --config configs/pose.ini --out "$out" --name "z$1" --force \
        --threads 1 --time-limit 0 --max-generations 1 -q
    s1=$(date +%s.%N)
    echo "$start $end $s0 $s1" | awk -v g="$gens" '{ printf "%.2f", g / (($2 - $1) - ($4 - $3)) }'
}
r1=$(rate 1)
r2=$(rate 2)
echo "mpi_generations_per_s_1rank: $r1"
echo "mpi_generations_per_s_2ranks: $r2"
echo "$r1 $r2" | awk '{ printf "mpi_parallel_efficiency_2ranks: %.2f\n", $2 / (2 * $1) }'
