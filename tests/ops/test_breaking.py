"""`make breaking` (part of `make test`): buf breaking against the last release tag, or the
previous commit, in a scratch repository holding a copy of buf.yaml and one proto."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.service import ROOT

PROTO = """syntax = "proto3";

package daira.sample.v1;

message Sample {
  string id = 1;
%s}
"""


def git(repo: Path, *args: str) -> None:
    identity = ("-c", "user.name=Daira", "-c", "user.email=daira@example.com")
    subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)


def commit(repo: Path, fields: str, message: str) -> None:
    (repo / "protos" / "daira" / "sample" / "v1" / "sample.proto").write_text(PROTO % fields)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def make_breaking(repo: Path) -> subprocess.CompletedProcess[str]:
    """The Makefile's target, run in `repo`, with this environment's tools."""
    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        ["make", "-f", str(ROOT / "Makefile"), "breaking", "STAMP=", f"BIN={bin_dir}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "protos" / "daira" / "sample" / "v1").mkdir(parents=True)
    (tmp_path / "buf.yaml").write_text((ROOT / "buf.yaml").read_text())
    git(tmp_path, "init", "-q")
    commit(tmp_path, "  string name = 2;\n", "first")
    return tmp_path


def test_the_first_commit_has_nothing_to_break(repo: Path) -> None:
    result = make_breaking(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no release tag or previous commit" in result.stdout


def test_a_field_added_since_the_previous_commit_passes(repo: Path) -> None:
    commit(repo, "  string name = 2;\n  string bio = 3;\n", "add a field")
    result = make_breaking(repo)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_field_removed_since_the_previous_commit_fails(repo: Path) -> None:
    commit(repo, "", "remove a field")
    result = make_breaking(repo)
    assert result.returncode != 0
    assert "name" in result.stdout + result.stderr


def test_a_field_removed_since_the_last_release_tag_fails(repo: Path) -> None:
    git(repo, "tag", "v0.1.0")
    commit(repo, "", "remove a field")
    commit(repo, "  string bio = 3;\n", "add another")
    result = make_breaking(repo)
    assert result.returncode != 0
    assert "v0.1.0" in result.stdout
