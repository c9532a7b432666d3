"""Project commands a user runs by hand beside ``dvc`` (``python -m pipeline.tools.<name>``): they wrap
DVC's Python API for what its command line does not do yet. No stage imports them."""
