#!/bin/sh
# The kernels' test suite under valgrind memcheck (issue 8): no invalid read or write, no use of
# uninitialised memory, in every kernel the tests reach (products over every layout, LU, eigh's
# Jacobi / QL / blocked paths, SVD, QR, Cholesky, norms, the thread pool).
#
#     sh scripts/valgrind.sh
#
# Valgrind's CPU has no AVX-512, so faer dispatches to its AVX2 kernels here; the logic under
# test (strides, offsets, blocking, workspaces) is the same. Leaks are not checked: the thread
# pool and its per-process state live until exit on purpose.
set -eu
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo test --locked -p ferrolinalg-kernels --profile dev-release --no-run 2>&1 | tail -1
bin=$(ls -t "$CARGO_TARGET_DIR"/dev-release/deps/ferrolinalg_kernels-* | grep -v '\.d$' | head -1)
echo "valgrind memcheck on $bin"
valgrind --tool=memcheck --error-exitcode=1 --leak-check=no --track-origins=yes \
    --suppressions=/dev/null "$bin" --test-threads=2 2>&1 | tee valgrind.log | grep -E "ERROR SUMMARY|test result|Invalid|uninitialised" || true
grep -q "ERROR SUMMARY: 0 errors" valgrind.log
echo "valgrind: no errors (log in valgrind.log)"
