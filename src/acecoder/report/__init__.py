"""The HTML report of a pipeline run (``acecoder report RUN_DIR``) and a headless-Chromium check of it."""

from acecoder.report.page import build_report, write_report

__all__ = ["build_report", "write_report"]
