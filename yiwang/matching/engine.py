"""Allocation with priorities and capacities: student-proposing deferred acceptance (DA).

The engine knows nothing of schools, jobs or halls. An instance is arrays:

    choices[i, j]  the j-th ranked choice of applicant i (an option index), -1 after the last
    keys[i, j]     applicant i's priority at that option: LOWER IS BETTER, and unique per
                   option (the application folds its priority class and its tie-break into one
                   integer, e.g. class << 32 | lottery rank), so every option ranks strictly
    capacity[o]    seats of option o

DA (Gale and Shapley 1962; Abdulkadiroğlu and Sönmez 2003 for school choice): every
unplaced applicant proposes to the next option on their list; each option keeps the best
`capacity` proposals it holds and rejects the rest; repeat until nobody is rejected with a
choice left. The result is stable (no applicant–option pair would both rather be together),
student-optimal among stable matchings, and strategy-proof for applicants.

Rounds are vectorised with numpy: a round sorts only the proposals and holdings at the options
that received a proposal, so the cost is O(held at touched options · log) per round and a
770,000-applicant instance needs a few dozen rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNPLACED = -1


@dataclass(frozen=True)
class Instance:
    choices: np.ndarray  # int32 [n, k], -1 padded
    keys: np.ndarray  # int64 [n, k]
    capacity: np.ndarray  # int64 [m]

    def __post_init__(self) -> None:
        problems = instance_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def applicants(self) -> int:
        return int(self.choices.shape[0])

    @property
    def options(self) -> int:
        return int(self.capacity.shape[0])


def instance_problems(instance: Instance) -> list[str]:
    """What makes an instance unusable, in words (an empty list when it is fine)."""
    choices, keys, capacity = instance.choices, instance.keys, instance.capacity
    problems: list[str] = []
    if choices.ndim != 2 or keys.shape != choices.shape:
        return ["choices and keys must be two arrays of the same shape [applicants, choices]"]
    if capacity.ndim != 1:
        return ["capacity must be one number per option"]
    if (capacity < 0).any():
        problems.append(f"option {int(np.argmax(capacity < 0))} has a negative capacity")
    listed = choices >= 0
    if (choices >= capacity.shape[0]).any():
        row = int(np.argwhere(choices >= capacity.shape[0])[0][0])
        problems.append(f"applicant {row} names an option that does not exist")
    if (choices < -1).any():
        problems.append("choices below -1")
    # -1 only after the last choice: a gap would hide later choices.
    gaps = ~listed[:, :-1] & listed[:, 1:]
    if gaps.any():
        problems.append(f"applicant {int(np.argwhere(gaps)[0][0])} has a gap in their choice list")
    if choices.shape[1] > 1:
        ordered = np.sort(np.where(listed, choices, -1 - np.arange(choices.shape[1])), axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
        if repeated.any():
            problems.append(f"applicant {int(np.argwhere(repeated)[0][0])} names an option twice")
    if listed.any():
        flat_options = choices[listed].astype(np.int64)
        flat_keys = keys[listed]
        order = np.lexsort((flat_keys, flat_options))
        same = (flat_options[order][1:] == flat_options[order][:-1]) & (
            flat_keys[order][1:] == flat_keys[order][:-1]
        )
        if same.any():
            option = int(flat_options[order][1:][same][0])
            problems.append(f"two applicants share a priority key at option {option}; break ties first")
    return problems


@dataclass
class Allocation:
    """The result: `option[i]` (or -1) and `rank[i]`, the index of that option in i's list."""

    option: np.ndarray  # int32 [n]
    rank: np.ndarray  # int16 [n], -1 when unplaced or placed outside the list
    rounds: int = 0
    proposals: int = 0
    extra: dict = field(default_factory=dict)

    def placed(self) -> int:
        return int((self.option >= 0).sum())


def deferred_acceptance(instance: Instance) -> Allocation:
    """Student-proposing deferred acceptance."""
    choices, keys = instance.choices, instance.keys
    capacity = instance.capacity.astype(np.int64)
    n, k = choices.shape
    pointer = np.zeros(n, dtype=np.int16)  # the choice each applicant proposes to / holds
    held = np.full(n, UNPLACED, dtype=np.int32)
    active = np.flatnonzero(choices[:, 0] >= 0) if k else np.empty(0, dtype=np.int64)
    rounds = proposals = 0
    touched = np.zeros(instance.options, dtype=bool)
    shift = _packing_shift(instance)
    while active.size:
        rounds += 1
        proposals += int(active.size)
        proposed = choices[active, pointer[active]]
        touched[:] = False
        touched[proposed] = True
        holders = np.flatnonzero((held >= 0) & touched[np.maximum(held, 0)])
        pool = np.concatenate((holders, active))
        pool_option = np.concatenate((held[holders], proposed)).astype(np.int64)
        pool_key = keys[pool, pointer[pool]]
        if shift is not None:  # one int64 sort key (option, key): several times faster
            order = np.argsort((pool_option << shift) | pool_key)
        else:
            order = np.lexsort((pool_key, pool_option))
        pool, pool_option = pool[order], pool_option[order]
        starts = np.flatnonzero(np.r_[True, pool_option[1:] != pool_option[:-1]])
        group_start = np.repeat(starts, np.diff(np.r_[starts, pool.size]))
        accepted = (np.arange(pool.size) - group_start) < capacity[pool_option]
        held[pool[accepted]] = pool_option[accepted]
        rejected = pool[~accepted]
        held[rejected] = UNPLACED
        pointer[rejected] += 1
        if k:
            more = pointer[rejected] < k
            rejected = rejected[more]
            active = rejected[choices[rejected, pointer[rejected]] >= 0]
        else:
            active = rejected[:0]
    rank = np.where(held >= 0, pointer, -1).astype(np.int16)
    return Allocation(option=held, rank=rank, rounds=rounds, proposals=proposals)


def _packing_shift(instance: Instance) -> int | None:
    """Bits to shift the option index by so that (option, key) packs into one int64, or None
    when the keys are negative or too large for it."""
    if not instance.keys.size:
        return None
    low, high = int(instance.keys.min()), int(instance.keys.max())
    shift = max(1, high.bit_length())
    if low < 0 or shift + max(1, instance.options.bit_length()) > 62:
        return None
    return shift


def boston(instance: Instance) -> Allocation:
    """The immediate-acceptance ("Boston") mechanism, for comparison: round r places
    applicants at their r-th choice in priority order while seats remain, for good. Not
    stable and not strategy-proof; the textbook examples show where it differs from DA."""
    choices, keys = instance.choices, instance.keys
    left = instance.capacity.astype(np.int64).copy()
    n, k = choices.shape
    option = np.full(n, UNPLACED, dtype=np.int32)
    rank = np.full(n, -1, dtype=np.int16)
    for r in range(k):
        waiting = np.flatnonzero((option < 0) & (choices[:, r] >= 0))
        if not waiting.size:
            continue
        wanted = choices[waiting, r].astype(np.int64)
        order = np.lexsort((keys[waiting, r], wanted))
        waiting, wanted = waiting[order], wanted[order]
        starts = np.flatnonzero(np.r_[True, wanted[1:] != wanted[:-1]])
        group_start = np.repeat(starts, np.diff(np.r_[starts, waiting.size]))
        position = np.arange(waiting.size) - group_start
        take = position < left[wanted]
        option[waiting[take]] = wanted[take]
        rank[waiting[take]] = r
        np.subtract.at(left, wanted[take], 1)
    return Allocation(option=option, rank=rank, rounds=k)


@dataclass(frozen=True)
class Stability:
    stable: bool
    blocking_pairs: int
    over_capacity: list[int]
    example: tuple[int, int] | None = None  # (applicant, option) of one blocking pair

    def __str__(self) -> str:
        if self.stable:
            return "stable: no blocking pair, every capacity respected"
        parts = []
        if self.blocking_pairs:
            parts.append(
                f"{self.blocking_pairs} blocking pairs, e.g. applicant {self.example[0]} and option {self.example[1]}"
            )
        if self.over_capacity:
            parts.append(f"options over capacity: {self.over_capacity[:10]}")
        return "NOT stable: " + "; ".join(parts)


def cutoffs(instance: Instance, allocation: Allocation) -> tuple[np.ndarray, np.ndarray]:
    """Per option: the worst (highest) key it admitted through the lists, and how many it
    holds in all."""
    m = instance.options
    listed = allocation.rank >= 0
    who = np.flatnonzero(listed)
    worst = np.full(m, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(worst, allocation.option[who].astype(np.int64), instance.keys[who, allocation.rank[who]])
    count = np.bincount(allocation.option[allocation.option >= 0], minlength=m)
    return worst, count


def stability_check(instance: Instance, allocation: Allocation) -> Stability:
    """Verify a result: each applicant placed at most once (by construction of the arrays),
    no option over capacity, and no blocking pair — an applicant who ranks an option above
    where they are, while that option has a free seat or admitted someone it ranks lower."""
    choices, keys = instance.choices, instance.keys
    n, k = choices.shape
    worst, count = cutoffs(instance, allocation)
    over = np.flatnonzero(count > instance.capacity).tolist()
    # Choices ranked above the placement (all choices when unplaced or placed off-list).
    limit = np.where(allocation.rank >= 0, allocation.rank, k)
    better = (np.arange(k)[None, :] < limit[:, None]) & (choices >= 0)
    rows, columns = np.nonzero(better)
    wanted = choices[rows, columns].astype(np.int64)
    free = count[wanted] < instance.capacity[wanted]
    outranks = keys[rows, columns] < worst[wanted]
    blocking = free | outranks
    pairs = int(blocking.sum())
    example = None
    if pairs:
        first = int(np.argmax(blocking))
        example = (int(rows[first]), int(wanted[first]))
    return Stability(stable=not pairs and not over, blocking_pairs=pairs, over_capacity=over, example=example)


def place_nearest(
    allocation: Allocation,
    capacity: np.ndarray,
    *,
    applicant_xy: np.ndarray,
    option_xy: np.ndarray,
    who: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Coordination (统筹): place each applicant in `who` (default: every unplaced one), in
    `order` (e.g. priority), at the nearest option that still has a seat. Returns the ones
    left unplaced because every seat is taken. Mutates `allocation` (rank stays -1: placed
    outside the list)."""
    from scipy.spatial import cKDTree

    left = capacity.astype(np.int64) - np.bincount(
        allocation.option[allocation.option >= 0], minlength=capacity.shape[0]
    )
    if who is None:
        who = np.flatnonzero(allocation.option < 0)
    if order is not None:
        who = who[np.argsort(order[who], kind="stable")]
    tree = cKDTree(option_xy)
    stranded = []
    m = option_xy.shape[0]
    for applicant in who:
        if left.sum() <= 0:
            stranded.append(applicant)
            continue
        near = min(8, m)
        while True:
            _, found = tree.query(applicant_xy[applicant], k=near)
            found = np.atleast_1d(found)
            open_ = [int(o) for o in found if o < m and left[o] > 0]
            if open_:
                option = open_[0]
                allocation.option[applicant] = option
                allocation.rank[applicant] = -1
                left[option] -= 1
                break
            if near >= m:
                stranded.append(applicant)
                break
            near = min(near * 4, m)
    return np.asarray(stranded, dtype=np.int64)


def coordinate_nearest(
    capacity: np.ndarray,
    *,
    applicant_xy: np.ndarray,
    option_xy: np.ndarray,
    order: np.ndarray,
    first_k: int = 8,
) -> np.ndarray:
    """Coordination (统筹): place applicants one at a time, best `order` first (lower is
    first; equal orders keep the applicants' index order), each at the nearest option that
    still has one of its `capacity` seats (equal distances: the lower option index). Returns
    the option of each applicant (-1 once every seat is taken).

    The same serial dictatorship as `place_nearest`, made fast: one k-d tree query gives
    every applicant their `first_k` nearest options with a seat at the start, nearest first;
    the loop in order takes the first of them that still has a seat — which is the nearest
    option with a seat, since any nearer one is on that list. Only an applicant whose whole
    list is full by their turn asks a tree of the options with a seat left (rebuilt only
    after an option filled up since the last ask). With one order shared by every option
    this serial dictatorship is also the student-optimal stable matching of the lists of
    nearest options, so it is stable."""
    from scipy.spatial import cKDTree

    n, m = applicant_xy.shape[0], option_xy.shape[0]
    option = np.full(n, UNPLACED, dtype=np.int32)
    capacity = np.asarray(capacity, dtype=np.int64).clip(min=0)
    seats = int(capacity.sum())
    if not n or not m or not seats:
        return option
    open_options = np.flatnonzero(capacity > 0)
    width = min(max(1, first_k), open_options.size)
    distance, found = cKDTree(option_xy[open_options]).query(applicant_xy, k=width)
    distance = np.asarray(distance, dtype=float).reshape(n, width)
    found = open_options[np.asarray(found, dtype=np.int64).reshape(n, width)]
    # nearest first, equal distances by option index
    found = np.take_along_axis(found, np.lexsort((found, distance)), axis=1)
    candidates = found.tolist()
    left = capacity.tolist()
    placed = [UNPLACED] * n
    filled_since_tree = True
    tree = with_seat = None
    for applicant in np.argsort(order, kind="stable").tolist():
        if not seats:
            break
        for chosen in candidates[applicant]:
            if left[chosen] > 0:
                break
        else:
            if filled_since_tree:
                with_seat = np.flatnonzero(np.asarray(left) > 0)
                tree = cKDTree(option_xy[with_seat])
                filled_since_tree = False
            near = min(4, with_seat.size)
            gaps, hits = tree.query(applicant_xy[applicant], k=near)
            hits = with_seat[np.atleast_1d(hits)]
            gaps = np.atleast_1d(gaps)
            chosen = int(hits[np.lexsort((hits, gaps))[0]])
        placed[applicant] = chosen
        left[chosen] -= 1
        seats -= 1
        if not left[chosen]:
            filled_since_tree = True
    option[:] = placed
    return option


def better_choice_cutoffs(instance: Instance, allocation: Allocation) -> dict[str, np.ndarray]:
    """Why an applicant is not at a better-ranked option: for every choice ranked above the
    applicant's placement (every choice when unplaced or placed off the list), the option,
    the applicant's own key there, the worst key the option admitted through the lists (-1
    when it admitted nobody that way) and whether it is full. Arrays of equal length:
    applicant, rank, option, key, cutoff, full. In a stable result each such row has
    full == True and key > cutoff (or the option has no seat at all)."""
    choices, keys = instance.choices, instance.keys
    n, k = choices.shape
    worst, count = cutoffs(instance, allocation)
    limit = np.where(allocation.rank >= 0, allocation.rank, k)
    better = (np.arange(k)[None, :] < limit[:, None]) & (choices >= 0)
    rows, columns = np.nonzero(better)
    wanted = choices[rows, columns].astype(np.int64)
    cutoff = np.where(count[wanted] > 0, worst[wanted], -1)
    cutoff = np.where(cutoff == np.iinfo(np.int64).min, -1, cutoff)
    return {
        "applicant": rows,
        "rank": columns,
        "option": wanted,
        "key": keys[rows, columns],
        "cutoff": cutoff,
        "full": count[wanted] >= instance.capacity[wanted],
    }
