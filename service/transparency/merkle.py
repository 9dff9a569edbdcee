"""Merkle tree maths of RFC 9162 (Certificate Transparency 2.0) §2.1, no I/O.

Hashes: leaf = SHA-256(0x00 ‖ leaf bytes), node = SHA-256(0x01 ‖ left ‖ right), the empty tree's
root = SHA-256(""). A tree of n leaves splits at k, the largest power of two below n: MTH(D[0:n]) =
node(MTH(D[0:k]), MTH(D[k:n])).

Nodes are named `(level, index)`: the complete subtree over leaves [index·2^level, (index+1)·2^level).
Every range the RFC's recursion meets, [a, b), is the concatenation of complete subtrees sized by the
binary digits of b − a, largest first (`range_nodes`), and its hash is their right fold (`fold`). So a
store that keeps the hash of every complete subtree answers any root, inclusion proof or consistency
proof with O(log n) lookups: the `*_plan` functions say which nodes, `resolve` folds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
Plan = list[list[Node]]  # one proof element per entry: the nodes whose right fold it is

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees making up leaves [start, end), largest first, as the RFC's recursion
    splits it (start must be aligned to the largest: true of every range the recursion meets)."""
    nodes: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        size = 1 << level
        if start % size:
            msg = f"range [{start}, {end}) is not one the tree's recursion meets"
            raise ValueError(msg)
        nodes.append((level, start >> level))
        start += size
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of consecutive complete subtrees, largest first: node(h1, node(h2, ... hk))."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_plan(size: int) -> list[Node]:
    return range_nodes(0, size)


def inclusion_plan(index: int, size: int) -> Plan:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), bottom up, as nodes to fold."""
    if not 0 <= index < size:
        msg = f"leaf {index} is not in a tree of {size}"
        raise ValueError(msg)
    plan: Plan = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            plan.append(range_nodes(start + k, end))
            end = start + k
        else:
            plan.append(range_nodes(start, start + k))
            start += k
    plan.reverse()
    return plan


def consistency_plan(old: int, new: int) -> Plan:
    """RFC 9162 §2.1.4.1 PROOF(old, D[0:new]), as nodes to fold (empty when old is 0 or old = new)."""
    if not 0 <= old <= new:
        msg = f"no consistency proof from {old} to {new}"
        raise ValueError(msg)
    if old in (0, new):
        return []
    plan: Plan = []
    start, end, whole = 0, new, True  # SUBPROOF(old - start, D[start:end], whole)
    while True:
        m = old - start
        n = end - start
        if m == n:
            if not whole:
                plan.append(range_nodes(start, end))
            break
        k = _split(n)
        if m <= k:
            plan.append(range_nodes(start + k, end))
            end = start + k
        else:
            plan.append(range_nodes(start, start + k))
            start += k
            whole = False
    plan.reverse()
    return plan


def plan_nodes(plan: Iterable[Sequence[Node]]) -> set[Node]:
    return {node for element in plan for node in element}


def resolve(plan: Iterable[Sequence[Node]], hashes: Mapping[Node, bytes]) -> list[bytes]:
    return [fold([hashes[node] for node in element]) for element in plan]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2, with its preconditions: a tree is consistent with itself (empty proof, the
    same root) and the empty tree with any tree (empty proof)."""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The complete subtrees of a growing tree, largest first (its right edge): append leaf hashes
    one by one; each append says which complete subtrees it finished. O(log n) memory, for any n."""

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        expected = range_nodes(0, size)
        if len(nodes) != len(expected):
            msg = f"a tree of {size} has {len(expected)} frontier nodes, not {len(nodes)}"
            raise ValueError(msg)
        self.size = size
        self._stack: list[tuple[Node, bytes]] = list(zip(expected, nodes, strict=True))

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add one leaf hash; returns the complete subtrees it finished, the leaf itself first."""
        node: Node = (0, self.size)
        value = leaf
        made = [(node, value)]
        while self._stack and self._stack[-1][0][0] == node[0]:
            (level, index), left = self._stack.pop()
            node, value = (level + 1, index >> 1), node_hash(left, value)
            made.append((node, value))
        self._stack.append((node, value))
        self.size += 1
        return made

    def root(self) -> bytes:
        return fold([value for _, value in self._stack])
