"""Every read and write of the project's own files, one module per kind of file.

Import from the modules (``from pipeline.io.prepared import load_prepared``): stages declare in dvc.yaml
only the modules they use, so changing how one kind of file is written reruns only the stages that write
it; this package file stays empty so that importing one module does not import the others.
"""
