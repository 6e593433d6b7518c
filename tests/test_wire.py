"""The wire between the checker and the student process (sandbox/wire.py).

Honest values cross it exactly (a hypothesis round trip of every kind of plain value),
and whatever else arrives, however malformed, is a WireError: never another exception
that a caller would not expect from the wire (issue 11, properties 6 and 10).
"""

from __future__ import annotations

import dataclasses
import json
import socket
import struct
import threading
import typing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gmm_course.sandbox import wire


@dataclasses.dataclass
class Params:
    weights: object
    means: object


class Pair(typing.NamedTuple):
    first: object
    second: object


RECORDS = {"Params": Params, "Pair": Pair}


def _codec() -> wire.Codec:
    return wire.Codec(lambda handle, name: ("remote", handle, name), RECORDS.get)


def _across(value):
    """``value`` sent as the wire sends it (JSON, no NaN literals) and decoded on the other side."""
    codec = _codec()
    text = json.dumps({"value": codec.encode(value)}, allow_nan=False)
    return codec.decode(json.loads(text)["value"])


def _same(got, sent) -> bool:
    """Exactly the same plain value: types, dtypes, shapes, memory order and bits."""
    if type(got) is not type(sent):
        return False
    if isinstance(sent, np.ndarray):
        fortran = sent.ndim > 1 and sent.flags.f_contiguous and not sent.flags.c_contiguous
        return (
            got.dtype == sent.dtype
            and got.dtype.str == sent.dtype.str
            and got.shape == sent.shape
            and got.tobytes() == sent.tobytes()
            and (not fortran or got.flags.f_contiguous)
        )
    if isinstance(sent, np.generic):
        return got.dtype.str == sent.dtype.str and got.tobytes() == sent.tobytes()
    if isinstance(sent, float):
        return struct.pack("!d", got) == struct.pack("!d", sent)
    if isinstance(sent, complex):
        return _same(got.real, sent.real) and _same(got.imag, sent.imag)
    if isinstance(sent, Pair):
        return _same(got.first, sent.first) and _same(got.second, sent.second)
    if isinstance(sent, Params):
        return _same(got.weights, sent.weights) and _same(got.means, sent.means)
    if isinstance(sent, list | tuple):
        return len(got) == len(sent) and all(_same(g, s) for g, s in zip(got, sent, strict=True))
    if isinstance(sent, dict):
        return list(got) == list(sent) and all(_same(got[k], sent[k]) for k in sent)
    return got == sent


DTYPES = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="="),
    hnp.integer_dtypes(endianness=">"),
    hnp.unsigned_integer_dtypes(endianness="?"),
    hnp.floating_dtypes(endianness="?"),
    hnp.complex_number_dtypes(endianness="?"),
)


@st.composite
def arrays(draw):
    """Arrays of every numeric dtype and byte order, 0-d and empty ones, Fortran-ordered and strided views."""
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    array = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["C", "F", "strided"]))
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim:
        array = array[..., ::2]
    return array


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(),
    hnp.from_dtype(np.dtype("float64")).map(np.float64),
    DTYPES.flatmap(hnp.from_dtype).filter(lambda v: isinstance(v, np.generic)),
    arrays(),
)


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
        st.builds(Pair, children, children),
        st.builds(Params, children, children),
    )


PLAIN_VALUES = st.recursive(SCALARS, _containers, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLAIN_VALUES)
def test_every_plain_value_crosses_exactly(value):
    assert _same(_across(value), value)


@pytest.mark.parametrize(
    "value",
    [
        np.array(-0.5),  # a 0-d float64: logsumexp may return one (it arrived with shape (1,))
        np.array(True),
        np.array(3, dtype=">i4"),
        np.zeros((0, 3)),
        np.zeros((2, 0, 2), dtype=np.complex64),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.arange(12.0).reshape(3, 4)[:, ::3],
        np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0]),
        np.float64(-0.0),
        np.float32(np.nan),
        np.int8(-3),
        np.bool_(False),
        float("-nan"),
        -0.0,
        2**80,
        1 + 2j,
        complex(float("inf"), -0.0),
    ],
    ids=repr,
)
def test_values_that_used_to_change_cross_exactly(value):
    assert _same(_across(value), value)


@pytest.mark.parametrize("bit_generator", wire.BIT_GENERATORS)
def test_random_generators_keep_their_state(bit_generator):
    generator = np.random.Generator(getattr(np.random, bit_generator)(7))
    generator.normal(size=3)
    copy = _across(generator)
    assert type(copy.bit_generator).__name__ == bit_generator
    assert np.array_equal(copy.normal(size=5), generator.normal(size=5))


def test_callables_are_unguessable_handles_that_can_be_revoked():
    codec = _codec()

    def helper():
        return 1

    first, second = codec.encode(helper)["$callable"], codec.encode(helper)["$callable"]
    assert first != second and len(first) == 32 and int(first, 16) != id(helper)
    assert codec.take_issued() == [first, second] and codec.take_issued() == []
    codec.revoke([first])
    assert first not in codec.local_callables and codec.local_callables[second] is helper
    assert codec.decode({"$callable": second, "name": "helper"}) == ("remote", second, "helper")


MALFORMED = [
    {"$nd": "<f8", "shape": [2], "data": "!!!!"},  # not base64
    {"$nd": "<f8", "shape": [3], "data": "AAAAAAAAAAA="},  # data of the wrong size
    {"$nd": "not a dtype", "shape": [], "data": ""},
    {"$nd": "|O", "shape": [], "data": ""},
    {"$nd": "<f8", "shape": [-1], "data": ""},
    {"$nd": "<f8"},  # no shape
    {"$nd": "<f8", "shape": [0], "data": "", "order": "K"},
    {"$np": "<M8[s]", "data": "AAAAAAAAAAA="},
    {"$float": "nan"},
    {"$float": "zz" * 8},
    {"$complex": [1.0]},
    {"$int": "9" * 300},
    {"$int": "twelve"},
    {"$rng": {"$dict": {"bit_generator": "os.system"}}},
    {"$rng": {"$dict": {"bit_generator": "PCG64", "state": 3}}},
    {"$record": 3, "fields": {}},
    {"$callable": 12345},  # handles are tokens
    {"$tuple": "not a list"},
    {"$whatever": 1},
    [1, 2],
    {},
    {"$list": [0] * (wire.MAX_VALUE_NODES + 1)},
]


@pytest.mark.parametrize("value", MALFORMED, ids=lambda v: json.dumps(v)[:60])
def test_a_malformed_value_is_a_wire_error(value):
    with pytest.raises(wire.WireError):
        _codec().decode(value)


def test_a_record_that_its_class_refuses_stays_a_plain_record():
    @dataclasses.dataclass
    class Checked:
        n: int

        def __post_init__(self):
            if self.n < 0:
                raise ValueError("n must not be negative")

    codec = wire.Codec(lambda handle, name: None, {"Checked": Checked}.get)
    record = codec.decode({"$record": "Checked", "fields": {"n": -1}})
    assert type(record) is wire.Record and record.n == -1


def _message_bytes(payload: bytes) -> bytes:
    return struct.pack("!Q", len(payload)) + payload


@pytest.mark.parametrize(
    "payload",
    [
        b'{"op":"return","value":' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # RecursionError in json
        b'{"op":"return","value":"\xff"}',  # not UTF-8
        b'{"op": "return", "value": NaN',  # cut short, and NaN
        b"[1, 2, 3]",  # not an object
    ],
    ids=["100000 deep", "not UTF-8", "not JSON", "not an object"],
)
def test_a_malformed_message_is_a_wire_error(payload):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        sender = threading.Thread(target=theirs.sendall, args=(_message_bytes(payload),))
        sender.start()
        with pytest.raises(wire.WireError):
            wire.receive_message(ours)
        sender.join()
