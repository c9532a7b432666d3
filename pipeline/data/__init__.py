"""Datasets: one loader module per dataset (``fashion_mnist``, ``cifar10``, ...) on the shared ``base``.

The registry (``prepare.dataset`` name -> loader) is :mod:`pipeline.data.registry`.  Only its names are kept
here, free of imports, so that validating params.yaml makes no stage depend on every loader.
"""

# The registry's names, in its order (``registry.DATASETS`` holds exactly these; a test checks it).
DATASET_NAMES = ("fashion_mnist", "cifar10", "gtsrb", "celeba", "imagefolder", "synthetic")
