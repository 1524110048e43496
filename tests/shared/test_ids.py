import uuid

import pytest

from shared.errors import InvalidArgument
from shared.ids import canonical_id, canonical_ids, new_id, parse_id


def test_new_ids_are_uuid7_and_time_ordered() -> None:
    first, second = new_id(), new_id()
    assert first.version == 7
    assert first < second


def test_canonical_id_keeps_a_canonical_id_as_it_is() -> None:
    value = str(uuid.uuid4())
    assert canonical_id("id", value) == value


def test_canonical_id_normalises_other_spellings() -> None:
    value = uuid.uuid4()
    assert canonical_id("id", str(value).upper()) == str(value)
    assert canonical_id("id", value.hex) == str(value)


@pytest.mark.parametrize("bad", ["", "nope", "1234"])
def test_malformed_ids_name_their_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        canonical_id("ids[3]", bad)
    assert caught.value.violations[0][0] == "ids[3]"
    with pytest.raises(InvalidArgument):
        parse_id("id", bad)


def test_a_batchs_ids_are_canonical_without_repeats_in_their_order() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    spelled = [str(first), second.hex, str(first).upper()]

    assert canonical_ids("ids", spelled, 100) == [str(first), str(second)]


def test_a_malformed_id_in_a_batch_names_its_position() -> None:
    with pytest.raises(InvalidArgument) as caught:
        canonical_ids("ids", [str(uuid.uuid4()), "nope"], 100)
    assert caught.value.violations[0][0] == "ids[1]"


def test_a_batch_over_the_maximum_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        canonical_ids("ids", [str(uuid.uuid4())] * 3, 2)
    assert caught.value.violations[0][0] == "ids"
