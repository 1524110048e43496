"""End to end: `make run`'s runner brings the platform up; grpcurl and the stubs reach it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.service import ROOT

READY_TIMEOUT = 180
GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("run")
    ready = data_dir / "ready.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIRA_")}
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.runner",
            "--data-dir",
            str(data_dir / "data"),
            "--ready-file",
            str(ready),
            "--free-ports",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.exists():
        if runner.poll() is not None or time.monotonic() > deadline:
            runner.kill()
            output = runner.stdout.read().decode() if runner.stdout else ""
            pytest.fail(f"the runner did not become ready:\n{output[-4000:]}")
        time.sleep(0.2)
    services = json.loads(ready.read_text())["services"]
    yield {name: info["address"] for name, info in services.items()}
    runner.send_signal(signal.SIGINT)
    assert runner.wait(timeout=60) == 0


def grpcurl(address: str, *args: str, data: dict[str, object] | None = None) -> str:
    command = [GRPCURL, "-plaintext"]
    if data is not None:
        command += ["-d", json.dumps(data)]
    result = subprocess.run(
        [*command, *args[:-1], address, args[-1]] if args else [*command, address],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_grpcurl_lists_the_users_service_and_health(platform: dict[str, str]) -> None:
    listed = grpcurl(platform["users"], "list").split()
    assert "daira.users.v1.UserService" in listed
    assert "grpc.health.v1.Health" in listed


def test_register_and_get_user_round_trip_through_grpcurl_json(platform: dict[str, str]) -> None:
    address = platform["users"]
    name = "e2e_" + uuid.uuid4().hex[:10]
    password = "e2e-password-1"
    registered = json.loads(
        grpcurl(
            address,
            "daira.users.v1.UserService/Register",
            data={"username": name, "email": f"{name}@example.com", "password": password},
        )
    )["user"]
    login = json.loads(
        grpcurl(
            address,
            "daira.users.v1.UserService/Login",
            data={"login": name, "password": password, "device": "grpcurl"},
        )
    )
    fetched = json.loads(
        grpcurl(
            address,
            "-H",
            f"authorization: Bearer {login['access_token']}",
            "daira.users.v1.UserService/GetUser",
            data={"id": registered["id"]},
        )
    )["user"]
    assert fetched["username"] == name
    assert fetched["email"] == f"{name}@example.com"


def test_seeded_admin_logs_in_and_reads_a_demo_user_through_the_stubs(
    platform: dict[str, str],
) -> None:
    with grpc.insecure_channel(platform["users"]) as channel:
        stub = users_pb2_grpc.UserServiceStub(channel)
        login = stub.Login(users_pb2.LoginRequest(login="admin", password="admin-password-1"))
        assert login.user.role == users_pb2.ROLE_ADMIN
        metadata = (("authorization", f"Bearer {login.access_token}"),)
        found = stub.SearchUsers(users_pb2.SearchUsersRequest(query="demo07"), metadata=metadata)
        assert any(user.username == "demo07" for user in found.users)
        demo = next(user for user in found.users if user.username == "demo07")
        profile = stub.GetProfile(users_pb2.GetProfileRequest(user_id=demo.id), metadata=metadata)
        assert profile.profile.bio


def _login(address: str, login: str, password: str) -> users_pb2.LoginResponse:
    with grpc.insecure_channel(address) as channel:
        stub = users_pb2_grpc.UserServiceStub(channel)
        return stub.Login(users_pb2.LoginRequest(login=login, password=password))


def test_grpcurl_lists_the_content_service_beside_users(platform: dict[str, str]) -> None:
    listed = grpcurl(platform["content"], "list").split()
    assert "daira.content.v1.ContentService" in listed


def test_demo_posts_are_seeded_with_their_hashtags_and_mentions(
    platform: dict[str, str],
) -> None:
    demo = _login(platform["users"], "demo04", "demo-password-1")
    posts = json.loads(
        grpcurl(
            platform["content"],
            "-H",
            f"authorization: Bearer {demo.access_token}",
            "daira.content.v1.ContentService/ListUserPosts",
            data={"page_size": 20},
        )
    )["posts"]
    jazz = next(post for post in posts if "Coltrane" in post["text"])
    assert jazz["hashtags"] == ["jazz"]
    assert [mention["username"] for mention in jazz["mentions"]] == ["demo01"]


def test_a_post_mentioning_a_user_is_resolved_across_running_services(
    platform: dict[str, str],
) -> None:
    demo = _login(platform["users"], "demo02", "demo-password-1")
    mentioned = _login(platform["users"], "demo03", "demo-password-1").user
    created = json.loads(
        grpcurl(
            platform["content"],
            "-H",
            f"authorization: Bearer {demo.access_token}",
            "daira.content.v1.ContentService/CreatePost",
            data={"text": "e2e hello @demo03 #e2e", "request_id": uuid.uuid4().hex},
        )
    )["post"]
    assert created["mentions"] == [{"user_id": mentioned.id, "username": "demo03"}]
    assert created["hashtags"] == ["e2e"]


def test_grpcurl_lists_the_social_service_beside_users(platform: dict[str, str]) -> None:
    listed = grpcurl(platform["social"], "list").split()
    assert "daira.social.v1.SocialService" in listed


def test_the_demo_graph_is_seeded_with_requests_to_the_locked_account(
    platform: dict[str, str],
) -> None:
    locked = _login(platform["users"], "demo07", "demo-password-1")
    requester = _login(platform["users"], "demo06", "demo-password-1").user
    bearer = f"authorization: Bearer {locked.access_token}"
    requests = json.loads(
        grpcurl(
            platform["social"],
            "-H",
            bearer,
            "daira.social.v1.SocialService/ListFollowRequests",
            data={"page_size": 20},
        )
    )["requests"]
    assert requester.id in [request["user_id"] for request in requests]
    stats = json.loads(
        grpcurl(
            platform["social"],
            "-H",
            bearer,
            "daira.social.v1.SocialService/GetUserStats",
            data={"user_ids": [locked.user.id]},
        )
    )["stats"]
    assert int(stats[0]["followers_count"]) >= 2


def test_grpcurl_lists_the_payments_service_beside_users(platform: dict[str, str]) -> None:
    listed = grpcurl(platform["payments"], "list").split()
    assert "daira.payments.v1.PaymentsService" in listed


def test_a_demo_wallet_is_funded_by_the_seed(platform: dict[str, str]) -> None:
    demo = _login(platform["users"], "demo03", "demo-password-1")
    wallet = json.loads(
        grpcurl(
            platform["payments"],
            "-H",
            f"authorization: Bearer {demo.access_token}",
            "daira.payments.v1.PaymentsService/GetWallet",
            data={"currency_code": "USD"},
        )
    )["wallet"]
    assert wallet["user_id"] == demo.user.id
    assert int(wallet["available_balance"]) > 0


def test_grpcurl_lists_the_moderation_service_beside_users(platform: dict[str, str]) -> None:
    listed = grpcurl(platform["moderation"], "list").split()
    assert "daira.moderation.v1.ModerationService" in listed


def test_the_demo_moderator_sees_the_seeded_queue_through_grpcurl(
    platform: dict[str, str],
) -> None:
    moderator = _login(platform["users"], "moderator", "moderator-password-1")
    bearer = f"authorization: Bearer {moderator.access_token}"
    queue = json.loads(
        grpcurl(
            platform["moderation"],
            "-H",
            bearer,
            "daira.moderation.v1.ModerationService/ListQueue",
            data={"page_size": 20},
        )
    )["subjects"]
    stats = json.loads(
        grpcurl(
            platform["moderation"],
            "-H",
            bearer,
            "daira.moderation.v1.ModerationService/GetQueueStats",
            data={},
        )
    )
    assert queue[0]["reason"] == "REPORT_REASON_ILLEGAL"
    assert max(int(subject["reporter_count"]) for subject in queue) == 4
    assert int(stats["decided_last_day"]) == 1
