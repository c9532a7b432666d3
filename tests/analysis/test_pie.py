from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis import pie


def modal(pred: list[list[int]], k: int = 4) -> pie.Modal:
    return pie.modal_labels(pie.vote_counts(np.array(pred), k))


def pies(dense: list[list[int]], comp: list[list[int]], k: int = 4) -> np.ndarray:
    return pie.pies(modal(dense, k), modal(comp, k))


def test_all_members_agree() -> None:
    # 3 members x 2 examples, everybody says 1 and 2: no PIE, no tie.
    dense = [[1, 2], [1, 2], [1, 2]]
    m = modal(dense)
    assert m.label.tolist() == [1, 2] and m.votes.tolist() == [3, 3] and not m.tie.any()
    assert not pies(dense, dense).any()


def test_one_dissenter_does_not_move_the_mode() -> None:
    dense = [[1], [1], [1]]
    comp = [[1], [1], [3]]
    assert modal(comp).label.tolist() == [1] and modal(comp).votes.tolist() == [2]
    assert not pies(dense, comp).any()


def test_majority_change_is_a_pie_whatever_the_truth() -> None:
    dense = [[1], [1], [0]]
    comp = [[3], [3], [1]]
    assert pies(dense, comp).tolist() == [True]


def test_ties_go_to_the_largest_class_id_and_are_counted() -> None:
    # Example 0: votes {0: 2, 3: 2} -> 3. Example 1: {1: 1, 2: 1, 0: 1, 3: 1} -> 3. Example 2: {2: 4}.
    m = modal([[0, 1, 2], [3, 2, 2], [0, 0, 2], [3, 3, 2]])
    assert m.label.tolist() == [3, 3, 2]
    assert m.tie.tolist() == [True, True, False]
    assert m.votes.tolist() == [2, 1, 4]


def test_tie_rule_decides_pies() -> None:
    # Dense: 2 votes for 1, 2 votes for 2 -> 2 (largest id). Compressed: 3 votes for 2 -> no PIE.
    dense = [[1], [1], [2], [2]]
    assert not pies(dense, [[2], [2], [2], [0]]).any()
    # Compressed: 2 votes for 1, 1 for 2, 1 for 0 -> 1 != 2: a PIE.
    assert pies(dense, [[1], [1], [2], [0]]).tolist() == [True]


def test_a_class_missing_from_one_population() -> None:
    # The compressed population never predicts class 3; the dense population mostly does.
    dense = [[3, 3, 0], [3, 3, 0], [3, 1, 0]]
    comp = [[2, 1, 0], [2, 1, 0], [1, 1, 0]]
    assert modal(dense).label.tolist() == [3, 3, 0]
    assert modal(comp).label.tolist() == [2, 1, 0]
    assert pies(dense, comp).tolist() == [True, True, False]


def test_uint16_votes_for_large_populations() -> None:
    pred = np.zeros((300, 2), dtype=np.int64)
    votes = pie.vote_counts(pred, 3)
    assert votes.dtype == np.uint16 and votes[:, 0].tolist() == [300, 300]


def test_summary_on_a_hand_built_case() -> None:
    labels = np.array([0, 1, 2, 3])
    dense_pred = np.array([[0, 1, 2, 0], [0, 1, 2, 3]])
    comp_pred = np.array([[0, 2, 2, 3], [0, 2, 1, 3]])
    dm = pie.modal_labels(pie.vote_counts(dense_pred, 4))  # [0, 1, 2, 3] (example 3: tie 0/3 -> 3)
    cm = pie.modal_labels(pie.vote_counts(comp_pred, 4))  # [0, 2, 2, 3] (example 2: tie 1/2 -> 2)
    is_pie = pie.pies(dm, cm)  # the rule: the modal labels differ
    assert is_pie.tolist() == [False, True, False, False]
    s = pie.summarize(is_pie, labels, dense_pred == labels, comp_pred == labels, dm, cm)
    assert (s.pies, s.examples, s.fraction) == (1, 4, 0.25)
    assert (s.dense_ties, s.compressed_ties) == (1, 1)
    assert s.dense_top1_pie == 1.0 and s.compressed_top1_pie == 0.0
    assert s.dense_top1_non_pie == pytest.approx(5 / 6) and s.compressed_top1_non_pie == pytest.approx(5 / 6)
    assert s.dense_top1_all == pytest.approx(7 / 8) and s.compressed_top1_all == pytest.approx(5 / 8)
    assert (s.dense_modal_correct_pie, s.compressed_modal_correct_pie) == (1, 0)


def test_jaccard_between_pie_sets() -> None:
    masks = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    inter, jac = pie.jaccard(masks)
    assert inter[0, 1] == 1 and inter[0, 0] == 2
    assert jac[0, 1] == pytest.approx(1 / 3) and jac[0, 0] == 1.0 and jac[0, 2] == 0.0
    assert np.isnan(jac[2, 3])  # both empty: undefined


def test_graded_score_is_the_l1_distance_of_vote_distributions() -> None:
    dense = pie.vote_counts(np.array([[0, 1], [0, 1]]), 3)
    comp = pie.vote_counts(np.array([[0, 2], [1, 2], [0, 2], [0, 2]]), 3)
    score = pie.graded_score(dense, comp, 2, 4)
    np.testing.assert_allclose(score, [0.5, 2.0])  # |1 - 3/4| + |0 - 1/4|; disjoint labels


def test_vote_string_lists_most_votes_first() -> None:
    assert pie.vote_string(np.array([1, 0, 3, 1])) == "2:3 3:1 0:1"


def test_the_pie_rule_compares_modal_labels_only() -> None:
    """pies(): the compressed modal label differs from the dense one's, whatever the true label."""
    dense = pie.modal_of(np.array([[0, 1, 2], [0, 1, 1], [1, 1, 2]]), 3)  # members x examples: 0, 1, 2
    comp = pie.modal_of(np.array([[0, 2, 2], [0, 2, 2], [1, 1, 1]]), 3)  # modal labels 0, 2, 2
    assert pie.pies(dense, comp).tolist() == [False, True, False]


def test_pie_stability_enumerated_by_hand() -> None:
    """Three members, labels all 1, the dense members always right; the compressed members vote
    [0,0,1], [0,1,1], [1,0,1]. Examples 0 and 1 are PIEs (2 votes of 3 for class 0); each leave-one-out
    resample keeps two members, ties go to the larger id (1, the dense modal label): dropping member 0
    leaves no PIE, dropping 1 leaves example 1, dropping 2 leaves example 0."""
    import dataclasses

    from pipeline.analysis.pie_tables import Votes, stability
    from pipeline.analysis.population import Population

    labels = np.ones(3, np.int64)
    dense = Population(
        "dense",
        (0, 1, 2),
        labels,
        np.ones((3, 3), np.int64),
        np.ones((3, 3)),
        np.ones((3, 3), bool),
        np.arange(3),
    )
    comp = dataclasses.replace(dense, name="c", pred=np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1]]))
    mask = np.array([True, True, False])
    found = stability(Votes.of(dense, 2), Votes.of(comp, 2), mask)
    np.testing.assert_allclose(found.frequency, [1 / 3, 1 / 3, 0.0])
    assert found.jaccard_mean == pytest.approx((0 + 0.5 + 0.5) / 3) and found.jaccard_min == 0.0
    assert found.summary(mask)["pies_stable"] == 0
    unpaired = dataclasses.replace(dense, seeds=(0, 1, 3))
    two = stability(Votes.of(unpaired, 2), Votes.of(comp, 2), mask)  # unpaired seeds: no resampling
    assert two.jaccard_mean is None and np.isnan(two.frequency).all()


@pytest.mark.parametrize("members", [3, 4, 5, 7])
@pytest.mark.parametrize("classes", [2, 3, 6])
def test_leave_one_out_modal_labels_equal_a_recount(members: int, classes: int) -> None:
    """modal_without_one + leave_one_out_modal give, for every member left out, exactly the modal labels
    of the remaining members counted afresh: ties, near-ties and clear majorities (few classes and few
    members make ties common)."""
    rng = np.random.default_rng(members * 10 + classes)
    pred = rng.integers(0, classes, (members, 400))
    pred[:, :50] = rng.integers(0, 2, (members, 50))  # two-class rows: many exact and one-off ties
    votes = pie.vote_counts(pred, classes)
    modal = pie.modal_labels(votes)
    without = pie.modal_without_one(votes, modal, members)
    for m in range(members):
        recount = pie.modal_of(np.delete(pred, m, axis=0), classes).label
        np.testing.assert_array_equal(pie.leave_one_out_modal(pred, modal, without, m), recount)


def test_modal_without_one_by_hand() -> None:
    """Votes of 4 members over 4 classes, one vote for the modal label taken away:
    [2,0,2,0] ties 0 and 2 (modal 2) and leaves 0 ahead; [0,3,0,1] keeps 1 (2 against 1); [1,1,0,2]
    (modal 3) becomes a three-way tie at 1 that 3, the largest id, still wins; [0,2,0,2] ties 1 and 3
    (modal 3) and leaves 1 ahead."""
    votes = np.array([[2, 0, 2, 0], [0, 3, 0, 1], [1, 1, 0, 2], [0, 2, 0, 2]], np.uint8)
    modal = pie.modal_labels(votes)
    assert modal.label.tolist() == [2, 1, 3, 3]
    assert pie.modal_without_one(votes, modal, 4).tolist() == [0, 1, 3, 1]
