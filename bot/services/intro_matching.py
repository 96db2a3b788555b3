"""Introduction matching, pure: members in, groups out (pairs, one trio when odd), no I/O and no clock.

Rules, in order of weight:
1. never two from the same government (a member nobody may meet sits the round out, only then);
2. no pair that met within the last `no_repeat` rounds while a grouping without one exists; else the pairs
   that met longest ago (the cost of a repeat falls with its age);
3. fairness: the trio goes to whoever was least recently in one (never first);
4. preferences (same prefecture / another region / a shared section / anyone) where possible.

Small rounds (up to EXACT_MAX members) are solved exactly by branch and bound. Large ones use a seeded
randomised greedy (the largest government first, candidates sampled from the unmatched pool and from the
member's preference bucket) and a 2-swap repair of the groups that cost anything; 10,000 members take a
few seconds (bench/intro.py). The same members, history and seed always give the same groups.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PREFERENCES = ("any", "same_pref", "other_region", "same_section")

SIT_OUT = 10**12  # a member left out of the round: only when nobody outside their government is free
REPEAT = 10**6  # a pair met within the window: one repeat outweighs every lesser rule together
RECENT = 10**3  # per round of recency inside the window: a repeat of last round's pair costs the most
WISH = 10  # one member's preference not honoured

EXACT_MAX = 10
SAMPLE = 16  # candidates looked at per member in the greedy
WISH_SAMPLE = 8
REPAIR_TRIES = 24


@dataclass(frozen=True)
class Candidate:
    user_id: str
    government: str  # storage.directory.government_of's key; unknown → unique per member
    pref_code: str | None = None
    region: str | None = None
    sections: frozenset[str] = frozenset()
    preference: str = "any"
    trio_age: int | None = None  # rounds since they were last in a trio; None: never


@dataclass
class Grouping:
    groups: list[tuple[str, ...]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    repeats: int = 0  # pairs inside groups that met within the window
    unmet_wishes: int = 0


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


class _Costs:
    """Costs by member index; the per-member columns are lists because this runs a few hundred thousand times."""

    def __init__(self, members: Sequence[Candidate], met: Mapping[tuple[str, str], int], no_repeat: int) -> None:
        self.m = members
        self.met = met
        self.no_repeat = no_repeat
        self.ids = [c.user_id for c in members]
        self.gov = [c.government for c in members]
        self.wants = [c.preference for c in members]

    def wish(self, a: Candidate, b: Candidate) -> bool:
        if a.preference == "same_pref":
            return a.pref_code is not None and a.pref_code == b.pref_code
        if a.preference == "other_region":
            return a.region != b.region or a.region is None
        if a.preference == "same_section":
            return bool(a.sections & b.sections)
        return True

    def repeat(self, a: Candidate, b: Candidate) -> int:
        age = self.met.get(pair_key(a.user_id, b.user_id)) if self.met else None
        if age is None or age > self.no_repeat:
            return 0
        return REPEAT + RECENT * (self.no_repeat + 1 - age)

    def pair(self, i: int, j: int) -> int | None:
        """Cost of i and j together; None when they may not meet (same government)."""
        if self.gov[i] == self.gov[j]:
            return None
        cost = 0
        if self.met:
            a, b = self.ids[i], self.ids[j]
            age = self.met.get((a, b) if a < b else (b, a))
            if age is not None and age <= self.no_repeat:
                cost = REPEAT + RECENT * (self.no_repeat + 1 - age)
        if self.wants[i] != "any" and not self.wish(self.m[i], self.m[j]):
            cost += WISH
        if self.wants[j] != "any" and not self.wish(self.m[j], self.m[i]):
            cost += WISH
        return cost

    def group(self, members: Sequence[int]) -> int | None:
        total = 0
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                c = self.pair(i, j)
                if c is None:
                    return None
                total += c
        return total


def trio_order(members: Sequence[Candidate], rng: random.Random) -> list[int]:
    """Indices by who should take the trio: never in one first, then longest ago; ties broken by the seed."""
    ties = list(range(len(members)))
    rng.shuffle(ties)
    rank = {i: r for r, i in enumerate(ties)}
    return sorted(
        range(len(members)),
        key=lambda i: (members[i].trio_age is not None, -(members[i].trio_age or 0), rank[i]),
    )


def match(members: Sequence[Candidate], *, met: Mapping[tuple[str, str], int], no_repeat: int, seed: int) -> Grouping:
    """Group `members`; `met` maps a pair_key to how many rounds ago the pair last met (1 = last round)."""
    members = sorted(members, key=lambda c: c.user_id)  # the input order never changes the answer
    costs = _Costs(members, met, no_repeat)
    rng = random.Random(seed)
    if len(members) <= EXACT_MAX:
        groups, left = _exact(costs, rng)
    else:
        groups, left = _greedy(costs, rng)
    return _summary(costs, groups, left)


def _summary(costs: _Costs, groups: list[list[int]], left: list[int]) -> Grouping:
    out = Grouping()
    for group in sorted(groups, key=lambda g: min(costs.m[i].user_id for i in g)):
        ids = sorted(group, key=lambda i: costs.m[i].user_id)
        out.groups.append(tuple(costs.m[i].user_id for i in ids))
        for x, i in enumerate(ids):
            for j in ids[x + 1 :]:
                a, b = costs.m[i], costs.m[j]
                out.repeats += costs.repeat(a, b) > 0
        for i in ids:
            out.unmet_wishes += not any(costs.wish(costs.m[i], costs.m[j]) for j in ids if j != i)
    out.left_out = sorted(costs.m[i].user_id for i in left)
    return out


# --- exact, for small rounds -------------------------------------------------------------------


def _exact(costs: _Costs, rng: random.Random) -> tuple[list[list[int]], list[int]]:
    n = len(costs.m)
    if n < 2:
        return [], list(range(n))
    if n % 2 == 0:
        cost, groups, left = _best_pairs(costs, list(range(n)), None)
        return groups, left
    best: tuple[tuple[int, int, int], list[list[int]], list[int]] | None = None
    for rank, t in enumerate(trio_order(costs.m, rng)):
        rest = [i for i in range(n) if i != t]
        cost, groups, left = _best_pairs(costs, rest, t)
        key = (cost // RECENT, rank, cost % RECENT)
        if best is None or key < best[0]:
            best = (key, groups, left)
    assert best is not None
    return best[1], best[2]


def _best_pairs(costs: _Costs, rest: list[int], extra: int | None) -> tuple[int, list[list[int]], list[int]]:
    """Branch and bound over pairings of `rest` (members may sit out at SIT_OUT); `extra` then joins a pair."""
    best_cost = [SIT_OUT * (len(rest) + 2)]
    best: list[tuple[list[list[int]], list[int]]] = [([], list(rest) + ([extra] if extra is not None else []))]

    def finish(pairs: list[list[int]], left: list[int], acc: int) -> None:
        groups = [list(p) for p in pairs]
        out_left = list(left)
        total = acc
        if extra is not None:
            choice, add = None, SIT_OUT
            for k, pair in enumerate(groups):
                c = costs.group([*pair, extra])
                if c is not None and c - (costs.group(pair) or 0) < add:
                    choice, add = k, c - (costs.group(pair) or 0)
            if choice is None:
                out_left.append(extra)
            else:
                groups[choice] = [*groups[choice], extra]
            total += add
        if total < best_cost[0]:
            best_cost[0] = total
            best[0] = (groups, out_left)

    def search(remaining: list[int], pairs: list[list[int]], left: list[int], acc: int) -> None:
        if acc >= best_cost[0]:
            return
        if not remaining:
            finish(pairs, left, acc)
            return
        first, others = remaining[0], remaining[1:]
        options = []
        for j in others:
            c = costs.pair(first, j)
            if c is not None:
                options.append((c, j))
        options.sort()
        for c, j in options:
            search([k for k in others if k != j], [*pairs, [first, j]], left, acc + c)
        search(others, pairs, [*left, first], acc + SIT_OUT)

    search(rest, [], [], 0)
    return best_cost[0], best[0][0], best[0][1]


# --- greedy and repair, for large rounds -------------------------------------------------------


class _Pool:
    """The unmatched members: O(1) random pick and removal (swap with the last)."""

    def __init__(self, items: list[int]) -> None:
        self.items = list(items)
        self.pos = {x: k for k, x in enumerate(self.items)}

    def __contains__(self, x: int) -> bool:
        return x in self.pos

    def __len__(self) -> int:
        return len(self.items)

    def remove(self, x: int) -> None:
        k = self.pos.pop(x)
        last = self.items.pop()
        if k < len(self.items):
            self.items[k] = last
            self.pos[last] = k

    def sample(self, rng: random.Random, k: int) -> list[int]:
        if len(self.items) <= k:
            return list(self.items)
        n, pick = len(self.items), rng.random
        return [self.items[int(pick() * n)] for _ in range(k)]


def _greedy(costs: _Costs, rng: random.Random) -> tuple[list[list[int]], list[int]]:
    m = costs.m
    n = len(m)
    extra: int | None = None
    everyone = list(range(n))
    if n % 2 == 1:
        extra = trio_order(m, rng)[0]
        everyone.remove(extra)
    size = Counter(c.government for c in m)
    rng.shuffle(everyone)
    # The largest government first: its members need partners from elsewhere before those are taken.
    order = sorted(everyone, key=lambda i: -size[m[i].government])
    pool = _Pool(everyone)
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in everyone:
        if m[i].pref_code:
            buckets[("pref", m[i].pref_code)].append(i)
        for s in m[i].sections:
            buckets[("section", s)].append(i)
    pairs: list[list[int]] = []
    left: list[int] = []
    for u in order:
        if u not in pool:
            continue
        pool.remove(u)
        seen = pool.sample(rng, SAMPLE)
        seen += _wished(m[u], buckets, rng)
        best, best_cost = None, None
        for v in seen:
            if v not in pool:
                continue
            c = costs.pair(u, v)
            if c is not None and (best_cost is None or c < best_cost):
                best, best_cost = v, c
        if best is None:  # every sample from their own government: look at the whole pool once
            best = next((v for v in pool.items if m[v].government != m[u].government), None)
        if best is None:
            left.append(u)
            continue
        pool.remove(best)
        pairs.append([u, best])
    left = _rescue(costs, pairs, left)
    _repair(costs, pairs, rng)
    if extra is not None:
        left.append(extra)
    groups: list[list[int]] = [list(p) for p in pairs]
    # One trio at most: the odd one out (or a member left without a partner) joins the cheapest pair.
    for x in sorted(left, key=lambda i: i != extra):
        if any(len(g) == 3 for g in groups):
            break
        choice, add = None, None
        for k, group in enumerate(groups):
            c = costs.group([*group, x])
            if c is not None and (add is None or c < add):
                choice, add = k, c
        if choice is not None:
            groups[choice].append(x)
            left.remove(x)
    return groups, left


def _rescue(costs: _Costs, pairs: list[list[int]], left: list[int]) -> list[int]:
    """Members the greedy left without a partner (the others took everyone outside their government): two of
    them split a pair whose members are both from elsewhere, (u, v) + (a, b) → (u, a), (v, b)."""
    gov = costs.gov
    left = list(left)
    changed = True
    while changed and len(left) >= 2:
        changed = False
        for x, u in enumerate(left):
            for v in left[x + 1 :]:
                for k, (a, b) in enumerate(pairs):
                    for p, q in ((a, b), (b, a)):
                        if gov[u] != gov[p] and gov[v] != gov[q]:
                            pairs[k] = [u, p]
                            pairs.append([v, q])
                            left.remove(u)
                            left.remove(v)
                            changed = True
                            break
                    if changed:
                        break
                if changed:
                    break
            if changed:
                break
    return left


def _wished(c: Candidate, buckets: Mapping[tuple[str, str], list[int]], rng: random.Random) -> list[int]:
    if c.preference == "same_pref" and c.pref_code:
        bucket = buckets.get(("pref", c.pref_code), [])
    elif c.preference == "same_section" and c.sections:
        bucket = buckets.get(("section", rng.choice(sorted(c.sections))), [])
    else:
        return []
    if len(bucket) <= WISH_SAMPLE:
        return list(bucket)
    return [bucket[rng.randrange(len(bucket))] for _ in range(WISH_SAMPLE)]


def _repair(costs: _Costs, pairs: list[list[int]], rng: random.Random) -> None:
    """Swap partners between a costly pair and random others while the total falls (two passes at most)."""
    if len(pairs) < 2:
        return
    cost = [costs.pair(a, b) or 0 for a, b in pairs]
    for _ in range(2):
        improved = False
        for p in range(len(pairs)):
            if cost[p] == 0:
                continue
            for _ in range(REPAIR_TRIES):
                q = rng.randrange(len(pairs))
                if q == p:
                    continue
                (a, b), (c, d) = pairs[p], pairs[q]
                now = cost[p] + cost[q]
                for x, y in (((a, c), (b, d)), ((a, d), (b, c))):
                    cx, cy = costs.pair(*x), costs.pair(*y)
                    if cx is not None and cy is not None and cx + cy < now:
                        pairs[p], pairs[q] = list(x), list(y)
                        cost[p], cost[q] = cx, cy
                        improved = True
                        break
                if cost[p] == 0:
                    break
        if not improved:
            break
