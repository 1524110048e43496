"""The Dockerfile builds a small, non-root image whose entry command starts any service.

Read statically (no Docker engine on the build machines), and the entry command run here
directly, as the image would run it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.users import SPEC as USERS
from shared.service import ROOT
from tests import harness
from tests.ops.processes import ServiceProcess

Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    lines = (line.strip() for line in joined.splitlines())
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.partition(" ") for line in lines if line)
        if not keyword.startswith("#")
    ]


DOCKERFILE = instructions((ROOT / "Dockerfile").read_text())
ARGS = dict(arg.split("=", 1) for keyword, arg in DOCKERFILE if keyword == "ARG")
STAGE_STARTS = [i for i, (keyword, _) in enumerate(DOCKERFILE) if keyword == "FROM"]
FINAL = DOCKERFILE[STAGE_STARTS[-1] :]
BUILD = DOCKERFILE[STAGE_STARTS[0] : STAGE_STARTS[-1]]


def base_image(from_arguments: str) -> str:
    image = from_arguments.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: ARGS[m[1]], image)


def test_the_image_is_built_in_stages_on_a_pinned_slim_python() -> None:
    assert len(STAGE_STARTS) >= 2
    for index in STAGE_STARTS:
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim", base_image(DOCKERFILE[index][1]))


def test_the_service_runs_as_a_user_that_is_not_root() -> None:
    users = [argument for keyword, argument in FINAL if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0")


def test_the_final_stage_installs_nothing_and_keeps_no_build_tools() -> None:
    runs = [argument for keyword, argument in FINAL if keyword == "RUN"]
    assert all(not re.search(r"pip|apt|apk|protoc", run) for run in runs)
    copied = [argument for keyword, argument in FINAL if keyword == "COPY"]
    assert not any("/tools" in argument for argument in copied)
    assert not any(re.search(r"\b(tests|bench)\b", argument) for argument in copied)


def test_pip_keeps_no_cache_in_any_layer() -> None:
    installs = [run for keyword, run in DOCKERFILE if keyword == "RUN" and "pip install" in run]
    assert installs
    assert all(
        run.count("pip install") == run.count("pip install --no-cache-dir") for run in installs
    )


def test_the_stubs_are_generated_inside_the_build() -> None:
    assert any(keyword == "RUN" and "grpc_tools.protoc" in run for keyword, run in BUILD)
    assert ("COPY", "--from=build /app/gen ./gen") in FINAL


def entry_command() -> list[str]:
    (entrypoint,) = [argument for keyword, argument in FINAL if keyword == "ENTRYPOINT"]
    command: list[str] = json.loads(entrypoint)
    return command


@pytest.fixture
async def users_database(pg_admin_url: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, USERS, "daira_users_entrypoint", "entrypoint-password"
    )


async def test_the_entry_command_starts_the_service_named_by_its_argument(
    users_database: str, redis_url: str, tmp_path: Path
) -> None:
    service = ServiceProcess(
        USERS,
        tmp_path,
        database_url=users_database,
        redis_url=redis_url,
        command=[*entry_command(), USERS.name],
    )
    await service.start()
    assert service.terminate() == 0, service.log_tail()
