from pipeline.robustness import CORRUPTION_FAMILIES, CORRUPTION_NAMES, corrupted_views, view_name
from pipeline.robustness.corruptions import CORRUPTIONS


def test_torch_free_names_and_families_agree_with_the_registry() -> None:
    assert tuple(CORRUPTIONS) == CORRUPTION_NAMES
    assert {name: c.family for name, c in CORRUPTIONS.items()} == CORRUPTION_FAMILIES


def test_views_are_corruption_major_in_suite_order() -> None:
    assert corrupted_views(("rotate", "gaussian_noise"), (5, 1)) == [
        ("gaussian_noise", 1),
        ("gaussian_noise", 5),
        ("rotate", 1),
        ("rotate", 5),
    ]
    assert len(corrupted_views((), (1, 2, 3, 4, 5))) == 16 * 5
    assert view_name("gaussian_noise", 3) == "gaussian_noise-3"
