"""Project commands over DVC revisions and experiments: ``python -m pipeline.tools.compare`` (configs x
headline metrics of any revisions) and ``python -m pipeline.tools.agree`` (does this run agree with a
committed one within the population spread?). Not stages: nothing in dvc.yaml runs them."""
