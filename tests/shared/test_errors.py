from google.rpc import code_pb2, error_details_pb2

from shared.errors import InvalidArgument, ResourceExhausted, internal_status


def test_invalid_argument_names_each_field_in_bad_request() -> None:
    status = InvalidArgument([("username", "too short"), ("email", "invalid")]).to_status()
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["username", "email"]


def test_resource_exhausted_carries_retry_info() -> None:
    status = ResourceExhausted("slow down", retry_after_seconds=2.5, reason="X").to_status()
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in status.details)
    assert retry.retry_delay.seconds == 2
    assert retry.retry_delay.nanos == 500_000_000


def test_internal_status_reveals_only_the_request_id() -> None:
    status = internal_status("rid-1")
    assert status.code == code_pb2.INTERNAL
    assert "rid-1" in status.message
    assert "Traceback" not in status.message
