from __future__ import annotations

import dataclasses

import torch

from pipeline.config import TrainParams
from pipeline.data.prepare import Prepared
from pipeline.models.member import new_member
from pipeline.training.loop import TrainData, augment, batch_indices, evaluate, random_shift, train_member


def as_train_data(data: Prepared) -> TrainData:
    return TrainData.from_prepared(data)


def test_batches_cover_a_permutation_and_drop_the_short_tail() -> None:
    batches = list(batch_indices(10, 4, torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [4, 4]
    assert len(set(torch.cat(batches).tolist())) == 8


def test_shift_moves_content_within_bounds() -> None:
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    out = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and torch.equal(out.sum(dim=(1, 2, 3)), torch.ones(64))
    ys, xs = torch.nonzero(out[:, 0], as_tuple=True)[1:]
    assert ys.min() >= 2 and ys.max() <= 6 and xs.min() >= 2 and xs.max() <= 6
    assert len(set(zip(ys.tolist(), xs.tolist(), strict=True))) > 10  # offsets differ per image


def test_augment_is_deterministic_for_a_seed() -> None:
    x = torch.rand(16, 1, 8, 8)
    a = augment(x, ("hflip", "shift"), torch.Generator().manual_seed(5))
    b = augment(x, ("hflip", "shift"), torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert torch.equal(augment(x, (), torch.Generator()), x)


def test_training_learns_and_is_deterministic(tiny_data: Prepared) -> None:
    cfg = TrainParams(epochs=2, batch_size=64, lr=0.05, augment=("hflip",), eval_batch_size=128)
    data = as_train_data(tiny_data)

    def run() -> tuple[dict[str, torch.Tensor], list[float]]:
        torch.manual_seed(1)
        model = new_member("small_cnn", tiny_data.image_shape, tiny_data.num_classes, data.train_images)
        history = train_member(model, data, cfg, seed=1)
        return model.state_dict(), [r.val_acc for r in history]

    (state_a, acc_a), (state_b, acc_b) = run(), run()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert acc_a == acc_b and acc_a[-1] > 0.9  # 4 separable classes: chance is 0.25


def test_schedules_and_optimizers_run(tiny_data: Prepared) -> None:
    data = as_train_data(tiny_data)
    for optimizer, schedule in (("adamw", "cosine"), ("sgd", "constant")):
        cfg = dataclasses.replace(
            TrainParams(epochs=1, batch_size=128, lr=0.01),
            optimizer=optimizer,
            schedule=schedule,
            augment=("shift",),
        )
        torch.manual_seed(0)
        model = new_member("lenet5", tiny_data.image_shape, tiny_data.num_classes, data.train_images)
        history = train_member(model, data, cfg, seed=0)
        assert len(history) == 1 and history[0].train_loss > 0
        loss, acc = evaluate(model, data.val_images, data.val_labels, 32)
        assert 0 <= acc <= 1 and loss > 0
