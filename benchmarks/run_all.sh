#!/usr/bin/env bash
# Run every benchmark and print its figures. Usage: benchmarks/run_all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
for script in benchmarks/*.py; do
  case "$(basename "$script")" in _*) continue ;; esac  # helpers, not benchmarks
  echo "== $script"
  python "$script" || echo "(failed: $script)"
done
