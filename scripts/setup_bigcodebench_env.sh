#!/usr/bin/env bash
# Build the BigCodeBench runtime: a separate venv (default .venv-bigcodebench) with the ~70 third-party libraries
# BigCodeBench's tests import, pinned as in its official evaluation image (scripts/bigcodebench-requirements.txt,
# Python 3.10). acecoder never depends on them: the engine runs programs with this venv's interpreter,
#   acecoder evaluate SAMPLES OUT --benchmark bigcodebench --interpreter .venv-bigcodebench/bin/python
# Needs Python 3.10 (set PYTHON=...), the package registry, ~4 GB of disk and ~10 minutes. A pin that cannot be
# installed here is retried without its version, then skipped; skipped packages are listed at the end and in
# $VENV/.skipped (the tasks importing them fail in this runtime, as they would in any runtime without them).
# Idempotent: does nothing when the venv is newer than this script and the requirements file.
# Usage: scripts/setup_bigcodebench_env.sh [venv dir, default .venv-bigcodebench]
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIREMENTS=scripts/bigcodebench-requirements.txt
VENV=${1:-.venv-bigcodebench}
STAMP="$VENV/.installed"
is_py310() { [ -n "$1" ] && "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; }
if [ -z "${PYTHON:-}" ]; then
    for candidate in python3.10 \
        $(command -v pyenv >/dev/null && ls -d "$(pyenv root)"/versions/3.10*/bin/python3.10 2>/dev/null | tail -1); do
        if is_py310 "$candidate"; then PYTHON=$candidate; break; fi
    done
fi
if ! is_py310 "${PYTHON:-}"; then
    echo "error: BigCodeBench's pinned runtime needs Python 3.10; set PYTHON=/path/to/python3.10" >&2
    exit 2
fi
if [ -f "$STAMP" ] && [ "$STAMP" -nt "$0" ] && [ "$STAMP" -nt "$REQUIREMENTS" ]; then
    echo "BigCodeBench venv ready: $VENV"
    exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --prefer-binary)
"$VENV/bin/python" -m pip install -q --upgrade pip wheel "setuptools<70"
# Whole set first (pip resolves it together); on failure, one package at a time so one bad pin costs one library.
if ! "${PIP[@]}" -q -r "$REQUIREMENTS"; then
    echo "the whole pinned set did not install; installing package by package" >&2
    : > "$VENV/.skipped"
    grep -v '^#' "$REQUIREMENTS" | grep -v '^$' | while read -r pin; do
        if "${PIP[@]}" -q "$pin" 2>/dev/null; then continue; fi
        name=${pin%%==*}
        if [ "$name" != "$pin" ] && "${PIP[@]}" -q "$name" 2>/dev/null; then
            echo "$pin: installed $("$VENV/bin/python" -m pip show "$name" 2>/dev/null | awk '/^Version/{print $2}') instead" >&2
            continue
        fi
        echo "$pin" >> "$VENV/.skipped"
        echo "$pin: skipped (does not install here)" >&2
    done
fi
# The tests draw plots headless and read NLTK corpora when they are present (no network in the sandbox).
"$VENV/bin/python" - <<'PY'
import importlib
missing = []
for name in ("numpy", "pandas", "matplotlib", "sklearn", "scipy", "seaborn", "nltk", "tensorflow", "cv2", "PIL"):
    try:
        importlib.import_module(name)
    except Exception as e:  # noqa: BLE001
        missing.append(f"{name} ({type(e).__name__})")
print("core libraries import:", "all" if not missing else "missing " + ", ".join(missing))
PY
touch "$STAMP"
if [ -s "$VENV/.skipped" ]; then
    echo "skipped pins (see $VENV/.skipped):" && cat "$VENV/.skipped"
fi
echo "BigCodeBench venv ready: $VENV (interpreter $VENV/bin/python)"
