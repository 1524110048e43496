"""The grpcurl examples of docs/OPERATIONS.md run, as written, against `make run`'s runner
(its free ports put in place of the default ones)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.service import ROOT, discover
from tests.e2e.test_make_run import platform

__all__ = ["platform"]  # the runner fixture, registered here by being imported

DOC = (ROOT / "docs" / "OPERATIONS.md").read_text()
SECTION = DOC.split("## Debugging with grpcurl", 1)[1].split("\n## ", 1)[0]
BLOCKS = re.findall(r"```sh\n(.*?)```", SECTION, re.DOTALL)
EXPECTED = {
    "list": ("daira.users.v1.UserService", "grpc.health.v1.Health", "ContentService.ListTrending"),
    "describe": ("rpc Login ( .daira.users.v1.LoginRequest )", "string password"),
    "call": ('"status": "SERVING"', '"users"', '"posts"'),
}


def test_the_section_has_a_list_a_describe_and_a_call_example() -> None:
    assert len(BLOCKS) == len(EXPECTED)


CASES = list(zip(BLOCKS, EXPECTED.values(), strict=True))


@pytest.mark.parametrize(("block", "expected"), CASES, ids=list(EXPECTED))
def test_the_documented_grpcurl_example_runs(
    platform: dict[str, str], block: str, expected: tuple[str, ...]
) -> None:
    script = block
    for spec in discover():
        script = script.replace(f"127.0.0.1:{spec.port}", platform[spec.name])
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout
