"""Corrupted test sets a user already has on disk (SPEC section 10): CIFAR-10-C, ImageNet-C, ImageNet-A.

Nothing is downloaded; each loader reads one published layout under a local ``root`` and returns test
views as :class:`CorruptedView` (uint8 images in (N, C, H, W), int64 labels):

* :func:`load_cifar10_c` reads CIFAR-10-C (Hendrycks & Dietterich 2019, zenodo.org/record/2535967):
  ``root/CIFAR-10-C/labels.npy`` and one ``<corruption>.npy`` per corruption (or ``root`` itself being that
  folder).  Each ``<corruption>.npy`` is (5 n, 32, 32, 3) uint8 with severity s in rows [(s-1) n, s n);
  ``labels.npy`` holds the matching 5 n labels (the n = 10,000 test labels repeated per severity).
* :func:`load_imagenet_c` reads ImageNet-C (same authors): ``root/<corruption>/<severity>/<wnid>/<image>``,
  an ImageFolder per severity whose class folders are ImageNet wnids.
* :func:`load_imagenet_a` reads ImageNet-A (Hendrycks et al. 2021): ``root/imagenet-a/<wnid>/<image>``
  (or ``root`` itself being that folder; its README.txt is ignored), natural adversarial images of 200 of
  the 1,000 ImageNet classes.  It is scored on its own 200 classes: :func:`restricted_predictions` takes
  the argmax over the logits of those classes only.

The ImageNet loaders label images by their index in the model's ``class_names`` (the folder names, i.e.
wnids, as the ``imagefolder`` dataset names its classes) and read images with the project's
:func:`~pipeline.data.base.read_image_files`: RGB, resized (shorter side) and center-cropped to
``image_size``, by default the ``imagefolder`` default, so the views match what the model was trained on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.data.base import DatasetCorrupt, DatasetUnavailable, pil_to_array, read_image_files
from pipeline.data.imagefolder import DEFAULT_SIZE

SEVERITIES = (1, 2, 3, 4, 5)

CIFAR10_C_FOLDER = "CIFAR-10-C"
CIFAR10_C_LABELS = "labels.npy"
CIFAR10_NUM_CLASSES = 10
CIFAR10_IMAGE_SHAPE = (32, 32, 3)

IMAGENET_A_FOLDER = "imagenet-a"
IMAGENET_A_NAME = "imagenet_a"  # the corruption name of its one view
IMAGENET_A_SEVERITY = 0  # natural images: no severity


@dataclass(frozen=True)
class CorruptedView:
    """One test view: ``images[i]`` (N, C, H, W) uint8 has label ``labels[i]`` (N,) int64.

    ``severity`` is 1..5 for a corruption, 0 for a natural distribution shift (ImageNet-A).
    """

    corruption: str
    severity: int
    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _check_severities(severities: Sequence[int]) -> tuple[int, ...]:
    """The requested severities as a tuple; ValueError for any outside 1..5."""
    bad = [s for s in severities if s not in SEVERITIES]
    if bad:
        raise ValueError(f"severities must be in {list(SEVERITIES)}, got {bad}")
    return tuple(severities)


def _pick(
    name: str, where: Path, present: Sequence[str], requested: Sequence[str] | None, kind: str
) -> list[str]:
    """``requested`` (all of ``present`` when None); DatasetUnavailable naming any not present."""
    if requested is None:
        return list(present)
    missing = [item for item in requested if item not in present]
    if missing:
        raise DatasetUnavailable(f"{name}: no {kind} {missing} in {where}; present: {list(present)}")
    return list(requested)


# ------------------------------------------------------------------------------------------- CIFAR-10-C


def _cifar10_c_folder(root: Path) -> Path:
    """``root/CIFAR-10-C``, or ``root`` when it is that folder; DatasetUnavailable when neither has labels."""
    for folder in (root / CIFAR10_C_FOLDER, root):
        if (folder / CIFAR10_C_LABELS).is_file():
            return folder
    raise DatasetUnavailable(
        f"cifar10_c: no usable copy in {root} (expected {root / CIFAR10_C_FOLDER}/{CIFAR10_C_LABELS} and one "
        f"<corruption>.npy per corruption, the CIFAR-10-C layout from zenodo.org/record/2535967); put the "
        f"files there (CIFAR-10-C has no download here)"
    )


def _load_npy(path: Path) -> np.ndarray:
    """``path`` memory-mapped; DatasetCorrupt when it is not a readable .npy array."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        reason = " ".join(str(err).split())
        raise DatasetCorrupt(f"cifar10_c: {path} is not a readable .npy array [{reason}]") from err


def _cifar10_c_labels(path: Path) -> np.ndarray:
    """labels.npy as int64: 5 n integer labels in [0, 10), n > 0; DatasetCorrupt otherwise."""
    labels = _load_npy(path)
    if labels.ndim != 1 or labels.shape[0] == 0 or labels.shape[0] % len(SEVERITIES) != 0:
        raise DatasetCorrupt(
            f"cifar10_c: {path} has shape {labels.shape}; expected (5 n,) labels, n per severity"
        )
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= CIFAR10_NUM_CLASSES:
        raise DatasetCorrupt(f"cifar10_c: {path} must hold integer labels in [0, {CIFAR10_NUM_CLASSES})")
    return np.asarray(labels, dtype=np.int64)


def _cifar10_c_images(path: Path, rows: int) -> np.ndarray:
    """``<corruption>.npy`` memory-mapped; DatasetCorrupt unless it is (rows, 32, 32, 3) uint8."""
    data = _load_npy(path)
    if data.dtype != np.uint8 or data.shape != (rows, *CIFAR10_IMAGE_SHAPE):
        raise DatasetCorrupt(
            f"cifar10_c: {path} is {data.dtype} {data.shape}; expected uint8 {(rows, *CIFAR10_IMAGE_SHAPE)} "
            f"(5 severities x {rows // len(SEVERITIES)} images, as many rows as {CIFAR10_C_LABELS})"
        )
    return data


def _nchw(data: np.ndarray, size: int | None) -> np.ndarray:
    """(N, 32, 32, 3) uint8 as stored -> a (N, 3, S, S) copy, resized only when ``size`` is set and not 32."""
    if size is None or size == CIFAR10_IMAGE_SHAPE[0]:
        return np.ascontiguousarray(data.transpose(0, 3, 1, 2))
    from PIL import Image

    return pil_to_array([Image.fromarray(np.asarray(image)) for image in data], size)


def load_cifar10_c(
    root: Path,
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] = SEVERITIES,
    image_size: int | None = None,
) -> list[CorruptedView]:
    """CIFAR-10-C views, one per (corruption, severity) in that order, as (n, 3, 32, 32) uint8.

    ``corruptions`` None takes every ``<name>.npy`` in the folder but labels.npy, sorted.  The files are
    memory-mapped and only the requested severities' rows are copied; ``image_size`` resizes them as the
    cifar10 loader does with ``data.image_size``.  Labels are CIFAR-10's class indices.
    """
    wanted_severities = _check_severities(severities)
    folder = _cifar10_c_folder(root)
    present = sorted(p.stem for p in folder.glob("*.npy") if p.name != CIFAR10_C_LABELS)
    names = _pick("cifar10_c", folder, present, corruptions, "corruption")
    labels = _cifar10_c_labels(folder / CIFAR10_C_LABELS)
    n = labels.shape[0] // len(SEVERITIES)
    views = []
    for name in names:
        data = _cifar10_c_images(folder / f"{name}.npy", labels.shape[0])
        for s in wanted_severities:
            rows = slice((s - 1) * n, s * n)
            views.append(CorruptedView(name, s, _nchw(data[rows], image_size), labels[rows].copy()))
    return views


# ------------------------------------------------------------------------------------ ImageNet-C and -A


def _class_index(class_names: Sequence[str]) -> dict[str, int]:
    """{class name: its index}; ValueError when a name repeats."""
    index = {name: i for i, name in enumerate(class_names)}
    if len(index) != len(class_names):
        raise ValueError("class_names must be distinct")
    return index


def _subfolders(folder: Path) -> list[Path]:
    """The subfolders of ``folder``, sorted by name, hidden ones left out."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_folder(
    folder: Path, index: dict[str, int], name: str, layout: str
) -> tuple[list[Path], np.ndarray, list[str]]:
    """An ImageFolder ``folder/<class>/<image>`` labelled by ``index``: (sorted paths, labels, classes).

    DatasetCorrupt for a class folder not in ``index``; DatasetUnavailable when there are no images.
    """
    from torchvision.datasets.folder import IMG_EXTENSIONS  # the extensions ImageFolder reads

    paths, labels, classes = [], [], []
    for class_folder in _subfolders(folder):
        if class_folder.name not in index:
            raise DatasetCorrupt(
                f"{name}: {class_folder} is not one of the model's {len(index)} classes (the model's class "
                f"names must be the folder names, ImageNet wnids such as n01440764)"
            )
        classes.append(class_folder.name)
        files = sorted(
            p for p in class_folder.iterdir() if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS
        )
        paths.extend(files)
        labels.extend([index[class_folder.name]] * len(files))
    if not paths:
        raise DatasetUnavailable(f"{name}: no images in {folder} (expected {layout})")
    return paths, np.asarray(labels, dtype=np.int64), classes


def _imagenet_c_layout(root: Path) -> str:
    return (
        f"{root}/<corruption>/<severity>/<wnid>/<image>, the ImageNet-C layout, e.g. "
        f"{root}/gaussian_noise/1/n01440764/ILSVRC2012_val_00000293.JPEG"
    )


def _imagenet_c_corruptions(root: Path) -> list[str]:
    """Subfolders of ``root`` with a severity folder (1..5), sorted; DatasetUnavailable when none."""
    present = (
        [f.name for f in _subfolders(root) if any((f / str(s)).is_dir() for s in SEVERITIES)]
        if root.is_dir()
        else []
    )
    if not present:
        raise DatasetUnavailable(
            f"imagenet_c: no usable copy in {root} (expected {_imagenet_c_layout(root)}); "
            f"put the files there (ImageNet-C has no download here)"
        )
    return present


def iter_imagenet_c(
    root: Path,
    class_names: Sequence[str],
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] = SEVERITIES,
    image_size: int | None = None,
) -> Iterator[CorruptedView]:
    """:func:`load_imagenet_c` one view at a time; every folder is checked before the first is decoded."""
    wanted_severities = _check_severities(severities)
    index = _class_index(class_names)
    names = _pick("imagenet_c", root, _imagenet_c_corruptions(root), corruptions, "corruption")
    plan = []
    for name in names:
        for s in wanted_severities:
            folder = root / name / str(s)
            if not folder.is_dir():
                raise DatasetUnavailable(
                    f"imagenet_c: no folder {folder} (expected {_imagenet_c_layout(root)})"
                )
            paths, labels, _ = _image_folder(folder, index, "imagenet_c", _imagenet_c_layout(root))
            plan.append((name, s, paths, labels))
    size = image_size or DEFAULT_SIZE
    for name, s, paths, labels in plan:
        yield CorruptedView(name, s, read_image_files(paths, size, f"imagenet_c {name} {s}"), labels)


def load_imagenet_c(
    root: Path,
    class_names: Sequence[str],
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] = SEVERITIES,
    image_size: int | None = None,
) -> list[CorruptedView]:
    """ImageNet-C views, one per (corruption, severity) in that order, as (N, 3, S, S) uint8.

    ``corruptions`` None takes every subfolder of ``root`` that has a severity folder, sorted.  Labels are
    indices into ``class_names``; images are read in sorted order and resized and center-cropped to
    ``image_size`` (the imagefolder default when None).  The full set is 75 views of 50,000 images: ask for
    a few corruptions and severities, or use :func:`iter_imagenet_c`, to bound memory.
    """
    return list(iter_imagenet_c(root, class_names, corruptions, severities, image_size))


def load_imagenet_a(
    root: Path, class_names: Sequence[str], image_size: int | None = None
) -> tuple[CorruptedView, np.ndarray]:
    """ImageNet-A as one view (corruption "imagenet_a", severity 0) and the classes it is scored on.

    Returns the view, labelled by index into ``class_names``, and ``subset``: the sorted (K,) int64 indices
    into ``class_names`` of the wnid folders present (200 for the real set), for
    :func:`restricted_predictions`.  Images are read as in :func:`load_imagenet_c`.
    """
    index = _class_index(class_names)
    folder = root / IMAGENET_A_FOLDER if (root / IMAGENET_A_FOLDER).is_dir() else root
    layout = f"{root / IMAGENET_A_FOLDER}/<wnid>/<image>, the ImageNet-A layout, 200 wnid folders"
    if not folder.is_dir() or not _subfolders(folder):
        raise DatasetUnavailable(
            f"imagenet_a: no usable copy in {root} (expected {layout}); put the files there "
            f"(ImageNet-A has no download here)"
        )
    paths, labels, classes = _image_folder(folder, index, "imagenet_a", layout)
    images = read_image_files(paths, image_size or DEFAULT_SIZE, IMAGENET_A_NAME)
    subset = np.asarray(sorted(index[c] for c in classes), dtype=np.int64)
    return CorruptedView(IMAGENET_A_NAME, IMAGENET_A_SEVERITY, images, labels), subset


def restricted_predictions(logits: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """(N,) int64 class indices (into the full class list) of the argmax of ``logits[:, subset]``.

    ``logits`` is (N, num_classes); ``subset`` (K,) class indices.  Ties go to the class listed first.
    """
    subset = np.asarray(subset)
    if logits.ndim != 2 or subset.ndim != 1 or subset.size == 0:
        raise ValueError(
            f"expected (N, classes) logits and a non-empty (K,) subset, got {logits.shape} and {subset.shape}"
        )
    if not np.issubdtype(subset.dtype, np.integer) or subset.min() < 0 or subset.max() >= logits.shape[1]:
        raise ValueError(f"subset must hold class indices in [0, {logits.shape[1]})")
    return subset[np.argmax(logits[:, subset], axis=1)].astype(np.int64)
