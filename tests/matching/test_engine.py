"""The allocation engine on hand-checked instances and random ones: DA is stable, respects
capacities, places each applicant at most once; Boston is not stable where the textbook says."""

from __future__ import annotations

import numpy as np
import pytest

from yiwang.matching.engine import Instance, boston, deferred_acceptance, place_nearest, stability_check

A, B, C = 0, 1, 2


def instance(preferences: list[list[int]], priorities: list[list[int]], capacity: list[int]) -> Instance:
    """preferences[i]: options in i's order; priorities[o]: applicants in o's order."""
    k = max(len(row) for row in preferences)
    choices = np.full((len(preferences), k), -1, dtype=np.int32)
    keys = np.zeros((len(preferences), k), dtype=np.int64)
    for i, row in enumerate(preferences):
        for j, option in enumerate(row):
            choices[i, j] = option
            keys[i, j] = priorities[option].index(i)
    return Instance(choices=choices, keys=keys, capacity=np.asarray(capacity, dtype=np.int64))


# s0: A > B > C, s1: A > B > C, s2: B > A > C; A ranks s0 > s1 > s2, B ranks s1 > s2 > s0.
TEXTBOOK = instance(
    [[A, B, C], [A, B, C], [B, A, C]],
    [[0, 1, 2], [1, 2, 0], [0, 1, 2]],
    [1, 1, 1],
)


def test_deferred_acceptance_on_the_textbook_example():
    result = deferred_acceptance(TEXTBOOK)
    assert result.option.tolist() == [A, B, C]
    assert result.rank.tolist() == [0, 1, 2]
    assert stability_check(TEXTBOOK, result).stable


def test_boston_differs_and_is_not_stable_there():
    result = boston(TEXTBOOK)
    # s2 takes B in the first round for good; s1, rejected by A, finds B full and ends at C.
    assert result.option.tolist() == [A, C, B]
    check = stability_check(TEXTBOOK, result)
    assert not check.stable and check.example == (1, B)  # s1 and B would rather be together


def test_capacity_and_unlisted_applicants():
    case = instance([[A], [A], [A], [B]], [[2, 0, 1, 3], [3, 0, 1, 2]], [2, 0])
    result = deferred_acceptance(case)
    assert result.option.tolist() == [A, -1, A, -1]  # A takes its best two; B has no seat
    assert stability_check(case, result).stable


def test_bad_instances_are_refused_in_words():
    with pytest.raises(ValueError, match="names an option twice"):
        instance([[A, A]], [[0], [0]], [1, 1])
    with pytest.raises(ValueError, match="does not exist"):
        Instance(choices=np.array([[5]]), keys=np.array([[0]]), capacity=np.array([1]))
    with pytest.raises(ValueError, match="share a priority key"):
        Instance(choices=np.array([[0], [0]]), keys=np.array([[3], [3]]), capacity=np.array([1]))
    with pytest.raises(ValueError, match="gap"):
        Instance(choices=np.array([[-1, 0]]), keys=np.array([[0, 0]]), capacity=np.array([1]))


def random_instance(rng: np.random.Generator, n: int, m: int, k: int) -> Instance:
    choices = np.full((n, k), -1, dtype=np.int32)
    lengths = rng.integers(0, min(k, m) + 1, size=n)
    for i in range(n):
        choices[i, : lengths[i]] = rng.choice(m, size=lengths[i], replace=False)
    # Each option ranks applicants by a random permutation (a priority class then a lottery).
    ranking = np.argsort(rng.random((m, n)), axis=1).argsort(axis=1)
    keys = np.where(choices >= 0, ranking[np.maximum(choices, 0), np.arange(n)[:, None]], 0).astype(np.int64)
    capacity = rng.integers(0, 4, size=m)
    return Instance(choices=choices, keys=keys, capacity=capacity)


@pytest.mark.parametrize("seed", range(40))
def test_random_instances_are_stable_within_capacity_and_student_optimal(seed):
    rng = np.random.default_rng(seed)
    case = random_instance(
        rng, n=int(rng.integers(1, 40)), m=int(rng.integers(1, 8)), k=int(rng.integers(1, 5))
    )
    result = deferred_acceptance(case)
    check = stability_check(case, result)
    assert check.stable, str(check)
    placed = result.option[result.option >= 0]
    assert (np.bincount(placed, minlength=case.options) <= case.capacity).all()
    on_list = result.rank >= 0
    assert (case.choices[on_list, result.rank[on_list]] == result.option[on_list]).all()
    # The student-optimal stable matching is unique and does not depend on the order of the
    # proposals: the vectorised rounds must give what one-at-a-time Gale–Shapley gives.
    assert result.option.tolist() == sequential_gale_shapley(case)


def sequential_gale_shapley(case: Instance) -> list[int]:
    """The textbook algorithm, one proposal at a time (the reference)."""
    n, k = case.choices.shape
    held: dict[int, list[int]] = {option: [] for option in range(case.options)}
    pointer = [0] * n
    free = [i for i in range(n)]
    while free:
        i = free.pop()
        if pointer[i] >= k or case.choices[i, pointer[i]] < 0:
            continue
        option = int(case.choices[i, pointer[i]])
        held[option].append(i)
        held[option].sort(key=lambda j: case.keys[j, pointer[j]])
        if len(held[option]) > case.capacity[option]:
            loser = held[option].pop()
            pointer[loser] += 1
            free.append(loser)
    placement = [-1] * n
    for option, applicants in held.items():
        for i in applicants:
            placement[i] = option
    return placement


def test_coordination_places_the_unplaced_at_the_nearest_school_with_a_seat():
    case = instance([[A], [A], [A]], [[0, 1, 2], [0, 1, 2], [0, 1, 2]], [1, 1, 1])
    result = deferred_acceptance(case)
    assert result.option.tolist() == [A, -1, -1]
    stranded = place_nearest(
        result,
        case.capacity,
        applicant_xy=np.array([[0.0, 0.0], [5.0, 0.0], [9.0, 0.0]]),
        option_xy=np.array([[0.0, 0.0], [4.0, 0.0], [10.0, 0.0]]),
        order=np.array([0, 1, 2]),
    )
    assert stranded.size == 0
    assert result.option.tolist() == [A, B, C] and result.rank.tolist() == [0, -1, -1]
    assert stability_check(case, result).stable


@pytest.mark.parametrize("seed", range(15))
def test_same_result_as_the_matching_package(seed):
    from yiwang.matching.reference import matching_package_solve

    rng = np.random.default_rng(1000 + seed)
    case = random_instance(
        rng, n=int(rng.integers(5, 60)), m=int(rng.integers(2, 10)), k=int(rng.integers(1, 5))
    )
    assert deferred_acceptance(case).option.tolist() == matching_package_solve(case).tolist()


# --- property-based: any instance hypothesis can think of -------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def instances(draw) -> Instance:
    m = draw(st.integers(1, 6))
    n = draw(st.integers(0, 25))
    k = draw(st.integers(1, 4))
    options = st.lists(st.integers(0, m - 1), unique=True, max_size=min(k, m))
    choices = np.full((n, k), -1, dtype=np.int32)
    for i in range(n):
        row = draw(options)
        choices[i, : len(row)] = row
    # Each option ranks the applicants by a permutation (priority classes and tie-breaks folded).
    ranking = np.array([draw(st.permutations(list(range(n)))) for _ in range(m)], dtype=np.int64).reshape(
        m, n
    )
    keys = np.zeros((n, k), dtype=np.int64)
    listed = choices >= 0
    rows, columns = np.nonzero(listed)
    keys[rows, columns] = ranking[choices[rows, columns], rows]
    capacity = np.asarray(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=np.int64)
    return Instance(choices=choices, keys=keys, capacity=capacity)


@settings(max_examples=200, deadline=None)
@given(instances())
def test_property_stable_within_capacity_each_placed_at_most_once_and_student_optimal(case):
    result = deferred_acceptance(case)
    assert stability_check(case, result).stable
    placed = result.option[result.option >= 0]
    assert (np.bincount(placed, minlength=case.options) <= case.capacity).all()
    assert result.option.shape == (case.applicants,)  # one placement (or none) per applicant
    on_list = result.rank >= 0
    assert (case.choices[on_list, result.rank[on_list]] == result.option[on_list]).all()
    assert result.option.tolist() == sequential_gale_shapley(case)


# --- coordination, vectorised; why not a better choice ----------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_vectorised_coordination_equals_the_one_by_one_loop(seed):
    from yiwang.matching.engine import Allocation, coordinate_nearest

    rng = np.random.default_rng(500 + seed)
    n, m = int(rng.integers(1, 120)), int(rng.integers(1, 12))
    capacity = rng.integers(0, 12, size=m)
    applicant_xy, option_xy = rng.random((n, 2)) * 50, rng.random((m, 2)) * 50
    order = rng.permutation(n)
    loop = Allocation(option=np.full(n, -1, dtype=np.int32), rank=np.full(n, -1, dtype=np.int16))
    place_nearest(loop, capacity, applicant_xy=applicant_xy, option_xy=option_xy, order=order)
    vectorised = coordinate_nearest(
        capacity, applicant_xy=applicant_xy, option_xy=option_xy, order=order, first_k=2
    )
    assert vectorised.tolist() == loop.option.tolist()
    assert (np.bincount(vectorised[vectorised >= 0], minlength=m) <= capacity).all()


def test_coordination_by_hand_the_first_in_order_gets_the_nearest_seat():
    from yiwang.matching.engine import coordinate_nearest

    # Two applicants at the same spot, one seat next door and one far away: order decides.
    placed = coordinate_nearest(
        np.array([1, 1]),
        applicant_xy=np.array([[0.0, 0.0], [0.0, 0.0], [50.0, 0.0]]),
        option_xy=np.array([[1.0, 0.0], [30.0, 0.0]]),
        order=np.array([2, 0, 1]),
    )
    # applicant 1 goes first (order 0) and takes the near seat; applicant 2 (order 1) is
    # nearest the far one; applicant 0 comes last and finds every seat taken.
    assert placed.tolist() == [-1, 0, 1]


def test_better_choice_cutoffs_say_why_not_a_better_school():
    from yiwang.matching.engine import better_choice_cutoffs

    result = deferred_acceptance(TEXTBOOK)
    why = better_choice_cutoffs(TEXTBOOK, result)
    rows = sorted(
        zip(
            why["applicant"].tolist(),
            why["option"].tolist(),
            why["key"].tolist(),
            why["cutoff"].tolist(),
            why["full"].tolist(),
            strict=True,
        )
    )
    # s1 is at B (its 2nd choice): A is full with s0 (key 0) and s1's own key there is 1;
    # s2 is at C (its 3rd): B admitted s1 with key 0, s2 has key 1; A admitted key 0, s2 has 2.
    assert rows == [(1, A, 1, 0, True), (2, A, 2, 0, True), (2, B, 1, 0, True)]


@pytest.mark.parametrize("seed", range(10))
def test_coordination_with_one_candidate_each_asks_the_tree_of_schools_with_seats(seed):
    """Short lists (first_k=1) fill up fast: most applicants find their one candidate full and
    ask the tree of the options with a seat left; the result is still the one-by-one loop's."""
    from yiwang.matching.engine import Allocation, coordinate_nearest

    rng = np.random.default_rng(900 + seed)
    n, m = int(rng.integers(50, 300)), int(rng.integers(2, 30))
    capacity = rng.integers(0, 6, size=m)
    applicant_xy, option_xy = rng.random((n, 2)) * 50, rng.random((m, 2)) * 50
    order = rng.permutation(n)
    loop = Allocation(option=np.full(n, -1, dtype=np.int32), rank=np.full(n, -1, dtype=np.int16))
    place_nearest(loop, capacity, applicant_xy=applicant_xy, option_xy=option_xy, order=order)
    fast = coordinate_nearest(
        capacity, applicant_xy=applicant_xy, option_xy=option_xy, order=order, first_k=1
    )
    assert fast.tolist() == loop.option.tolist()
    assert int((fast >= 0).sum()) == min(n, int(capacity.sum()))


def test_coordination_breaks_equal_distances_by_the_lower_option():
    from yiwang.matching.engine import coordinate_nearest

    # Two schools at the same spot: the lower index fills first, then the other.
    placed = coordinate_nearest(
        np.array([1, 1]),
        applicant_xy=np.array([[0.0, 0.0], [0.0, 0.0]]),
        option_xy=np.array([[3.0, 4.0], [3.0, 4.0]]),
        order=np.array([1, 0]),
    )
    assert placed.tolist() == [1, 0]
