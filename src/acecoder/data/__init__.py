"""Data model and IO for the AceCode-87K interchange format."""

from acecoder.data.io import RowWriter, iter_rows, read_rows, write_rows
from acecoder.data.schema import (
    AceCodeRow,
    DataError,
    Inference,
    validate_acecode_row,
)

__all__ = [
    "AceCodeRow",
    "DataError",
    "Inference",
    "RowWriter",
    "iter_rows",
    "read_rows",
    "validate_acecode_row",
    "write_rows",
]
