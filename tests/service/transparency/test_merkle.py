"""RFC 9162 tree hashing, inclusion and consistency proofs: known answers from transparency-dev/merkle
(testonly/constants.go, proof/proof_test.go, testdata/*/happy-path.json), asserted byte for byte."""

from __future__ import annotations

import base64
import hashlib

import pytest

from service.transparency.merkle import (
    EMPTY_ROOT,
    Frontier,
    Node,
    consistency_plan,
    fold,
    inclusion_plan,
    leaf_hash,
    node_hash,
    plan_nodes,
    range_nodes,
    resolve,
    root_plan,
    verify_consistency,
    verify_inclusion,
)

# testonly.LeafInputs()
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
# testonly.NodeHashes(): level → index → hash
NODES = [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
# testonly.RootHashes(): by tree size 0..8
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
TABLE: dict[Node, bytes] = {(lv, i): bytes.fromhex(h) for lv, row in enumerate(NODES) for i, h in enumerate(row)}


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_hasher_known_answers() -> None:  # rfc6962/rfc6962_test.go
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node_hash(b"N123", b"N456").hex() == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


def test_frontier_makes_every_node_and_root_of_the_reference_tree() -> None:
    frontier = Frontier()
    made: dict[Node, bytes] = {}
    assert frontier.root() == bytes.fromhex(ROOTS[0])
    for size, data in enumerate(LEAVES, start=1):
        made.update(frontier.append(leaf_hash(data)))
        assert frontier.root().hex() == ROOTS[size], size
        assert fold([made[n] for n in root_plan(size)]).hex() == ROOTS[size]
    assert made == TABLE
    resumed = Frontier(5, [TABLE[n] for n in root_plan(5)])  # resumed from stored nodes
    for data in LEAVES[5:]:
        resumed.append(leaf_hash(data))
    assert resumed.root().hex() == ROOTS[8]


@pytest.mark.parametrize(("index", "size", "nodes"), [
    (0, 1, []),
    (0, 2, [[(0, 1)]]),
    (1, 3, [[(0, 0)], [(0, 2)]]),
    (0, 7, [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]),  # b h (i j)
    (4, 7, [[(0, 5)], [(0, 6)], [(2, 0)]]),  # f j k
    (6, 7, [[(1, 2)], [(2, 0)]]),  # i k
    (3, 5, [[(0, 2)], [(1, 0)], [(0, 4)]]),  # c g e
    (10, 15, [[(0, 11)], [(1, 4)], [(1, 6), (0, 14)], [(3, 0)]]),
    (81, 95, [[(0, 80)], [(1, 41)], [(2, 21)], [(2, 22), (1, 46), (0, 94)], [(4, 4)], [(6, 0)]]),
])
def test_inclusion_nodes_match_the_reference(index: int, size: int, nodes: list[list[Node]]) -> None:
    # proof/proof_test.go TestInclusion (its "rehash" runs listed there rightmost first)
    assert inclusion_plan(index, size) == nodes


@pytest.mark.parametrize(("old", "new", "nodes"), [
    (1, 2, [[(0, 1)]]),
    (1, 6, [[(0, 1)], [(1, 1)], [(1, 2)]]),
    (2, 3, [[(0, 2)]]),
    (3, 7, [[(0, 2)], [(0, 3)], [(1, 0)], [(1, 2), (0, 6)]]),  # c d g (i j)
    (5, 7, [[(0, 4)], [(0, 5)], [(0, 6)], [(2, 0)]]),  # e f j k
    (7, 8, [[(0, 6)], [(0, 7)], [(1, 2)], [(2, 0)]]),
    (4, 4, []),
    (24, 31, [[(3, 2)], [(2, 6), (1, 14), (0, 30)], [(4, 0)]]),
    (81, 95, [[(0, 80)], [(0, 81)], [(1, 41)], [(2, 21)], [(2, 22), (1, 46), (0, 94)], [(4, 4)], [(6, 0)]]),
])
def test_consistency_nodes_match_the_reference(old: int, new: int, nodes: list[list[Node]]) -> None:
    # proof/proof_test.go TestConsistency
    assert consistency_plan(old, new) == nodes


INCLUSION = [  # testdata/inclusion/{0..4}/happy-path.json
    (0, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", []),
    (0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
     ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
      "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="]),
    (5, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=",
     ["vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
      "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]),
    (2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=",
     ["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="]),
    (1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
     ["bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
      "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="]),
]


@pytest.mark.parametrize(("index", "size", "root", "leaf", "proof"), INCLUSION)
def test_inclusion_vectors_verify_and_are_what_we_generate(
        index: int, size: int, root: str, leaf: str, proof: list[str]) -> None:
    hashes = [b64(p) for p in proof]
    assert verify_inclusion(b64(leaf), index, size, hashes, b64(root))
    assert not verify_inclusion(b64(leaf), index, size, hashes, hashlib.sha256(b"other").digest())
    if hashes:
        changed = [bytes([hashes[0][0] ^ 1]) + hashes[0][1:], *hashes[1:]]
        assert not verify_inclusion(b64(leaf), index, size, changed, b64(root))
        assert not verify_inclusion(b64(leaf), index, size, hashes[:-1], b64(root))
    if size in (5, 8):  # generated from the reference tree of LeafInputs()
        assert resolve(inclusion_plan(index, size), TABLE) == hashes


CONSISTENCY = [  # testdata/consistency/{0..4}/happy-path.json
    (1, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", []),
    (1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
     ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
      "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="]),
    (6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
     ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
      "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]),
    (2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
     ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="]),
    (6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
     ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
      "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]),
]


@pytest.mark.parametrize(("old", "new", "old_root", "new_root", "proof"), CONSISTENCY)
def test_consistency_vectors_verify_and_are_what_we_generate(
        old: int, new: int, old_root: str, new_root: str, proof: list[str]) -> None:
    hashes = [b64(p) for p in proof]
    assert verify_consistency(old, new, hashes, b64(old_root), b64(new_root))
    assert not verify_consistency(old, new, hashes, b64(new_root) if old != new else EMPTY_ROOT, b64(new_root))
    if hashes:
        assert not verify_consistency(old, new, [], b64(old_root), b64(new_root))  # empty-proof.json
        assert not verify_consistency(old, new, hashes[:-1], b64(old_root), b64(new_root))
        assert not verify_consistency(old, new, [*hashes, hashes[0]], b64(old_root), b64(new_root))
        changed = [*hashes[:-1], bytes([hashes[-1][0] ^ 1]) + hashes[-1][1:]]
        assert not verify_consistency(old, new, changed, b64(old_root), b64(new_root))
    if new == 8:
        assert resolve(consistency_plan(old, new), TABLE) == hashes
        assert bytes.fromhex(ROOTS[old]) == b64(old_root)


def test_every_proof_of_a_larger_tree_verifies() -> None:
    frontier = Frontier()
    table: dict[Node, bytes] = {}
    roots = [EMPTY_ROOT]
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(70)]
    for leaf in leaves:
        table.update(frontier.append(leaf))
        roots.append(frontier.root())
    for size in range(1, 71):
        assert fold([table[n] for n in root_plan(size)]) == roots[size]
        for index in range(size):
            plan = inclusion_plan(index, size)
            assert plan_nodes(plan) <= table.keys()
            assert verify_inclusion(leaves[index], index, size, resolve(plan, table), roots[size])
        for old in range(size + 1):
            proof = resolve(consistency_plan(old, size), table)
            assert verify_consistency(old, size, proof, roots[old], roots[size]), (old, size)
            if 0 < old < size:
                assert not verify_consistency(old, size, proof, roots[old - 1] if old > 1 else EMPTY_ROOT, roots[size])


def test_edge_cases() -> None:
    assert not verify_consistency(0, 0, [], EMPTY_ROOT, b"\x01" * 32)  # roots-do-not-match-and-sizes-are-zero
    assert verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    assert not verify_consistency(2, 1, [], EMPTY_ROOT, EMPTY_ROOT)  # size1 is greater than size2
    assert not verify_inclusion(EMPTY_ROOT, 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_plan(7, 7)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_plan(9, 8)
    assert range_nodes(0, 13) == [(3, 0), (2, 2), (0, 12)]
