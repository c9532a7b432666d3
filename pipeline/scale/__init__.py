"""Fan the study's stages out over Dask workers; results come back through DVC's run-cache (README "Beyond
one machine"). ``python -m pipeline.scale --help``."""
