"""Who goes in which captain's group: about ten each, alike in language, then in area.

A pure function of ids, languages and areas, so it is tested on its own and the tree actions
only store its answer. Each person goes to the least loaded captain with room who shares
their language and area, else their language, else anyone with room; a group holds at most
`capacity` people (10, or more when there are too few captains for ten each).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

GROUP_SIZE = 10


@dataclass(frozen=True)
class Someone:
    id: int
    language: str
    area: str


def capacity_for(people: int, captains: int) -> int:
    return max(GROUP_SIZE, math.ceil(people / captains)) if captains else 0


def balance(people: Sequence[Someone], captains: Sequence[Someone]) -> dict[int, list[int]]:
    """{captain id: [person ids]}: everyone placed, no group above the capacity."""
    groups: dict[int, list[int]] = {cap.id: [] for cap in captains}
    if not captains:
        return groups
    capacity = capacity_for(len(people), len(captains))
    load = dict.fromkeys(groups, 0)
    # One heap of (load, position, captain id) per key; stale entries are skipped on pop.
    heaps: dict[tuple[str, ...], list[tuple[int, int, int]]] = {}
    for position, cap in enumerate(captains):
        for key in ((cap.language, cap.area), (cap.language,), ()):
            heaps.setdefault(key, []).append((0, position, cap.id))
    for heap in heaps.values():
        heapq.heapify(heap)

    def take(key: tuple[str, ...]) -> int | None:
        heap = heaps.get(key)
        while heap:
            n, position, cid = heap[0]
            if n != load[cid] or n >= capacity:
                heapq.heappop(heap)
                if n != load[cid] and load[cid] < capacity:
                    heapq.heappush(heap, (load[cid], position, cid))
                continue
            heapq.heapreplace(heap, (n + 1, position, cid))
            return cid
        return None

    # The rarest language first, so its speakers find its captains' room still free.
    counts: dict[str, int] = {}
    for person in people:
        counts[person.language] = counts.get(person.language, 0) + 1
    ordered = sorted(people, key=lambda p: (counts[p.language], p.language, p.area, p.id))
    for person in ordered:
        for key in ((person.language, person.area), (person.language,), ()):
            cid = take(key)
            if cid is not None:
                load[cid] += 1
                groups[cid].append(person.id)
                break
    return groups
