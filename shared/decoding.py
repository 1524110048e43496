"""A request that does not parse is bad input, not a server fault.

grpc answers a request its deserializer rejects (a string field that is not UTF-8, say a
lone surrogate, or truncated bytes) with UNKNOWN. The pipeline decodes through
`tolerant` instead: a request that does not parse reaches it as an `Undecodable` naming
the offending field, and the caller gets INVALID_ARGUMENT.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

Deserializer = Callable[[bytes], Any]


class Undecodable(NamedTuple):
    """What the pipeline receives instead of a request that does not parse."""

    field: str
    reason: str


def tolerant(deserialize: Deserializer) -> Deserializer:
    """`deserialize`, answering `Undecodable` instead of raising on bytes that do not parse.

    `deserialize` is a generated message's FromString; its class names the fields.
    """
    message_class: type[Message] = deserialize.__self__  # type: ignore[attr-defined]

    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError as exc:
            reason = "is not valid UTF-8" if "UTF-8" in str(exc) else "could not be parsed"
            return Undecodable(offending_field(message_class, data) or "request", reason)

    return decode


def offending_field(message_class: type[Message], data: bytes) -> str | None:
    """The dotted path of the first field whose bytes do not parse; None if none alone fails
    (or the bytes are not even well-formed fields)."""
    fields = message_class.DESCRIPTOR.fields_by_number
    try:
        for number, start, end, payload in _fields(data):
            try:
                message_class.FromString(data[start:end])
            except DecodeError:
                field = fields.get(number)
                if field is None:
                    return None
                nested = field.message_type
                if field.type == FieldDescriptor.TYPE_MESSAGE and nested and payload is not None:
                    inner = offending_field(GetMessageClass(nested), payload)  # type: ignore[arg-type]
                    return f"{field.name}.{inner}" if inner else field.name
                return field.name
    except IndexError:
        return None
    return None


def _fields(data: bytes) -> list[tuple[int, int, int, bytes | None]]:
    """Each top-level field of wire-format `data`: its number, where its bytes start and end,
    and the payload of a length-delimited one. IndexError on bytes cut short."""
    found = []
    position = 0
    while position < len(data):
        start = position
        tag, position = _varint(data, position)
        number, wire_type = tag >> 3, tag & 7
        payload = None
        if wire_type == 0:
            _, position = _varint(data, position)
        elif wire_type == 1:
            position += 8
        elif wire_type == 2:
            length, position = _varint(data, position)
            payload = data[position : position + length]
            position += length
        elif wire_type == 5:
            position += 4
        else:
            raise IndexError("a wire type that is not a field")
        if position > len(data):
            raise IndexError("a field cut short")
        found.append((number, start, position, payload))
    return found


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
