"""Data model and IO for the AceCode-87K interchange format."""

from acecoder.data.ids import UniqueIds, unique_rows
from acecoder.data.io import RowWriter, iter_rows, read_rows, require_file, same_file, write_rows
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
    "UniqueIds",
    "iter_rows",
    "read_rows",
    "require_file",
    "same_file",
    "unique_rows",
    "validate_acecode_row",
    "write_rows",
]
