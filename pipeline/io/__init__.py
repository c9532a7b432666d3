"""Every read and write of the project's own files, one module per kind of file.

Stages declare in dvc.yaml only the modules they use, so changing how one kind of file is written reruns
only the stages that write it.
"""

from pipeline.io.checkpoints import load_checkpoint, save_checkpoint
from pipeline.io.files import atomic_path, read_json, write_csv, write_json
from pipeline.io.prepared import load_prepared, save_prepared

__all__ = [
    "atomic_path",
    "load_checkpoint",
    "load_prepared",
    "read_json",
    "save_checkpoint",
    "save_prepared",
    "write_csv",
    "write_json",
]
