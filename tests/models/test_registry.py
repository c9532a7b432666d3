from __future__ import annotations

import pytest
import torch

from pipeline.models import ARCH_NAMES, ArchNames
from pipeline.models.member import Member, new_member
from pipeline.models.registry import ARCHS, build_model


@pytest.mark.parametrize("arch", [*ARCHS, "resnet18"])
@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 32)])
def test_every_arch_builds_for_the_input_at_hand(arch: str, channels: int, size: int) -> None:
    torch.manual_seed(0)
    model = build_model(arch, channels, 7, size).eval()
    with torch.no_grad():
        out = model(torch.rand(2, channels, size, size))
    assert out.shape == (2, 7)


def test_registry_holds_exactly_the_names_params_validate_against() -> None:
    assert tuple(ARCHS) == ARCH_NAMES


def test_same_seed_same_initialisation() -> None:
    torch.manual_seed(3)
    a = build_model("small_cnn", 1, 10, 28).state_dict()
    torch.manual_seed(3)
    b = build_model("small_cnn", 1, 10, 28).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_unknown_arch_lists_the_valid_names() -> None:
    assert "small_cnn" in ArchNames() and "resnet18" in ArchNames() and "nope" not in ArchNames()
    with pytest.raises(KeyError, match="small_cnn, lenet5, squeezenet, or any timm model name"):
        build_model("nope", 1, 10, 28)


def test_member_normalizes_with_training_statistics() -> None:
    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    torch.manual_seed(0)
    member = new_member("small_cnn", (3, 8, 8), 4, images)
    x = images.float() / 255
    expected_mean = x.mean(dim=(0, 2, 3))
    torch.testing.assert_close(member.mean.flatten(), expected_mean)
    assert isinstance(member, Member)
    assert member(x[:2]).shape == (2, 4)
