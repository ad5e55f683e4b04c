"""The same instance solved by the `matching` package (PyPI, MIT; a development dependency):
the reference the engine is checked against in tests and compared with in bench/enrollment.py."""

from __future__ import annotations

import sys
import threading

import numpy as np

from yiwang.matching.engine import Instance


def matching_package_solve(instance: Instance) -> np.ndarray:
    """Resident-optimal hospital–resident solution by the `matching` package, as an option per
    applicant (-1 unplaced). The package deep-copies and recurses through its object graph, so
    it runs in a thread with a large stack and a raised recursion limit."""
    from matching.games import HospitalResident

    choices, keys = instance.choices, instance.keys
    n, k = choices.shape
    resident_prefs: dict[int, list[int]] = {}
    applicants_of: dict[int, list[tuple[int, int]]] = {option: [] for option in range(instance.options)}
    for i in range(n):
        # Options without seats reject everyone; the package refuses them, so leave them out.
        listed = [(j, int(option)) for j, option in enumerate(choices[i]) if option >= 0]
        listed = [(j, option) for j, option in listed if instance.capacity[option] > 0]
        if listed:
            resident_prefs[i] = [option for _, option in listed]
        for j, option in listed:
            applicants_of[option].append((int(keys[i, j]), i))
    hospital_prefs = {
        option: [i for _, i in sorted(pairs)] for option, pairs in applicants_of.items() if pairs
    }
    capacities = {option: int(instance.capacity[option]) for option in hospital_prefs}
    result: dict = {}

    def solve() -> None:
        try:
            game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
            result["matching"] = game.solve(optimal="resident")
        except BaseException as error:  # re-raised in the caller's thread
            result["error"] = error

    limit = sys.getrecursionlimit()
    stack = threading.stack_size()
    sys.setrecursionlimit(max(limit, 1_000_000))
    threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=solve)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(stack)
        sys.setrecursionlimit(limit)
    if "error" in result:
        raise result["error"]
    placement = np.full(n, -1, dtype=np.int32)
    for hospital, residents in result["matching"].items():
        for resident in residents:
            placement[resident.name] = hospital.name
    return placement
