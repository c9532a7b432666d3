"""Project commands a user runs by hand beside ``dvc`` (``python -m pipeline.tools.<name>``), over DVC's
Python API: ``push`` (``dvc push --run-cache`` plus the outputs its entries name), ``compare`` (configs x
headline metrics of any revisions and experiments) and ``agree`` (does this run agree with a committed one
within the population spread?). Not stages: nothing in dvc.yaml runs them, and no stage imports them."""
