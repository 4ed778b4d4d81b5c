"""File digests remembered between runs (steward.digests): reused only for unchanged files."""

from __future__ import annotations

import hashlib
import os

import pytest

from steward import digests


@pytest.fixture
def hashed(steward_home, monkeypatch):
    """Files actually read by the hasher, in order; files count as settled at once."""
    monkeypatch.setattr(digests, "SETTLED_NS", 0)
    read = []
    real = digests.sha256

    def counting(path):
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(digests, "sha256", counting)
    return read


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_when_a_file_is_unchanged_then_its_digest_is_not_computed_again(tmp_path, hashed):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b'{"id": 1}\n')
    b.write_bytes(b'{"id": 2}\n')
    assert digests.digests([a, b]) == [_sha(b'{"id": 1}\n'), _sha(b'{"id": 2}\n')]
    assert digests.digests([b, a]) == [_sha(b'{"id": 2}\n'), _sha(b'{"id": 1}\n')]
    assert digests.digest(a) == _sha(b'{"id": 1}\n')
    assert sorted(hashed) == ["a.jsonl", "b.jsonl"]


def test_when_content_changes_behind_the_same_size_and_time_then_it_is_hashed_again(
    tmp_path, hashed
):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"AAAA\n")
    before = os.stat(path)
    assert digests.digest(path) == _sha(b"AAAA\n")
    path.write_bytes(b"BBBB\n")  # same size; the modification time is then set back
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert digests.digest(path) == _sha(b"BBBB\n")
    assert hashed == ["a.jsonl", "a.jsonl"]


def test_when_a_file_was_just_changed_then_its_digest_is_not_remembered_yet(
    tmp_path, hashed, monkeypatch
):
    monkeypatch.setattr(digests, "SETTLED_NS", 3600 * 10**9)  # changed within the hour
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"AAAA\n")
    assert digests.digest(path) == digests.digest(path) == _sha(b"AAAA\n")
    assert hashed == ["a.jsonl", "a.jsonl"]
    assert not (digests.stores.home() / digests.CACHE_FILE).exists()


def test_when_the_cache_file_is_damaged_then_files_are_hashed_and_it_is_rewritten(tmp_path, hashed):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"AAAA\n")
    cache = digests.stores.home() / digests.CACHE_FILE
    cache.write_text("{not json", encoding="utf-8")
    assert digests.digest(path) == _sha(b"AAAA\n")
    assert digests.digest(path) == _sha(b"AAAA\n")
    assert hashed == ["a.jsonl"]
    assert str(path.resolve()) in cache.read_text(encoding="utf-8")


def test_when_a_remembered_file_is_deleted_then_the_cache_forgets_it(tmp_path, hashed):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"A\n")
    b.write_bytes(b"B\n")
    digests.digests([a])
    a.unlink()
    digests.digests([b])
    text = (digests.stores.home() / digests.CACHE_FILE).read_text(encoding="utf-8")
    assert str(b.resolve()) in text and str(a.resolve()) not in text
