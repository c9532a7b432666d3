"""Robustness under corruption (SPEC section 10): the corruption suite and the corrupted test views."""

# The suite's corruption names, in registry order (``corruptions.CORRUPTIONS`` holds exactly these; a test
# checks it).  Kept here, free of torch, so that validating params.yaml imports no torch.
CORRUPTION_NAMES = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "speckle_noise",
    "gaussian_blur",
    "defocus_blur",
    "motion_blur",
    "contrast",
    "brightness",
    "pixelate",
    "jpeg",
    "elastic",
    "rotate",
    "shear",
    "translate",
    "scale",
)

CORRUPTION_FAMILIES = {  # name -> family (noise, blur, digital, geometric); the registry agrees (tested)
    name: family
    for family, members in (
        ("noise", ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise")),
        ("blur", ("gaussian_blur", "defocus_blur", "motion_blur")),
        ("digital", ("contrast", "brightness", "pixelate", "jpeg")),
        ("geometric", ("elastic", "rotate", "shear", "translate", "scale")),
    )
    for name in members
}

CLEAN_VIEW = "clean"  # the uncorrupted test split's view


def view_name(corruption: str, severity: int) -> str:
    """The folder name of a corrupted test view: ``<corruption>-<severity>``, e.g. ``gaussian_noise-3``."""
    return f"{corruption}-{severity}"


def parse_view(view: str) -> tuple[str, int]:
    """(corruption, severity) of a corrupted view's name, the inverse of :func:`view_name` (corruption
    names hold no ``-``); a ValueError for any other name."""
    corruption, _, severity = view.rpartition("-")
    if corruption not in CORRUPTION_FAMILIES or not severity.isdigit():
        raise ValueError(f"{view!r} is not a corrupted view's name (<corruption>-<severity>)")
    return corruption, int(severity)


def corrupted_views(corruptions: tuple[str, ...], severities: tuple[int, ...]) -> list[tuple[str, int]]:
    """Every (corruption, severity) of the study, corruption-major in the suite's order (``corruptions``
    empty: all of the suite's), severities ascending."""
    names = [c for c in CORRUPTION_NAMES if c in corruptions] if corruptions else list(CORRUPTION_NAMES)
    return [(name, severity) for name in names for severity in sorted(severities)]
