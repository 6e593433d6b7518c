"""The wire between the trusted checker and the untrusted student process.

Messages are length-prefixed JSON. Values cross the wire as plain data only: None,
bool, int, float (NaN and infinities included), str, list, tuple, dict with str keys,
``numpy.ndarray`` of a numeric dtype, NumPy scalars, records (dataclass instances,
sent as their class name and fields), random generators (their bit generator state)
and callables (a handle the other side calls back through). Anything else is sent as
a *foreign* placeholder, which the trusted side turns into an object that fails every
check: an object whose ``__eq__`` always says True never reaches a test.

This file is also the student process's entry point (``python -I -S wire.py FD
SITE...``): it needs only the standard library and NumPy, and it is copied into the
student's jail.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import math
import socket
import struct
import sys
import traceback
import warnings

if __name__ == "__main__":  # the student process (-I -S): its package folder, then site-packages
    sys.path[:0] = [sys.argv[2]]
    sys.path.extend(sys.argv[3:])

import numpy as np  # noqa: E402

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct("!Q")
NUMERIC_KINDS = "biufc"


class WireError(Exception):
    """A message that is not valid on the wire (cut short, too large, malformed)."""


# ---------------------------------------------------------------- framing


def send_message(sock: socket.socket, message: dict) -> None:
    payload = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive_message(sock: socket.socket) -> dict:
    (size,) = _HEADER.unpack(_receive_exactly(sock, _HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {size} bytes is larger than the limit")
    try:
        message = json.loads(_receive_exactly(sock, size).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"not a JSON message ({error})") from None
    if type(message) is not dict:
        raise WireError("a message must be a JSON object")
    return message


# ---------------------------------------------------------------- values


class Codec:
    """Encodes and decodes values; callables are kept in a table of handles."""

    def __init__(self, make_remote_callable, find_record_type):
        self._make_remote_callable = make_remote_callable  # handle -> callable on this side
        self._find_record_type = find_record_type  # class name -> class to rebuild a record with, or None
        self.local_callables: dict[int, object] = {}

    # -- encode
    def encode(self, value, depth: int = 0):
        if depth > 50:
            return {"$foreign": "a structure nested too deeply"}
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            return value if abs(value) < 2**63 else {"$int": str(value)}
        if kind is float:
            return value if math.isfinite(value) else {"$float": repr(value)}
        if kind is np.ndarray:
            if value.dtype.kind not in NUMERIC_KINDS:
                return {"$foreign": f"numpy.ndarray of dtype {value.dtype}"}
            data = np.ascontiguousarray(value)
            return {"$nd": data.dtype.str, "shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()}
        if isinstance(value, np.generic) and kind.__module__ == "numpy":
            if value.dtype.kind not in NUMERIC_KINDS:
                return {"$foreign": f"numpy scalar {kind.__name__}"}
            return {"$np": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode()}
        if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a NamedTuple
            fields = {name: self.encode(getattr(value, name), depth + 1) for name in kind._fields}
            return {"$record": kind.__name__, "fields": fields}
        if kind is tuple or kind is list:
            return {"$" + kind.__name__: [self.encode(v, depth + 1) for v in value]}
        if kind is dict:
            if not all(type(k) is str for k in value):
                return {"$foreign": "a dict with keys that are not strings"}
            return {"$dict": {k: self.encode(v, depth + 1) for k, v in value.items()}}
        if kind is np.random.Generator:
            return {"$rng": self.encode(_plain_state(value.bit_generator.state))}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: self.encode(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
            return {"$record": kind.__name__, "fields": fields}
        if callable(value):
            handle = id(value)
            self.local_callables[handle] = value
            return {"$callable": handle, "name": getattr(value, "__name__", "function")}
        return {"$foreign": kind.__name__}

    # -- decode
    def decode(self, value, depth: int = 0):
        if depth > 60:
            raise WireError("value nested too deeply")
        kind = type(value)
        if value is None or kind in (bool, int, float, str):
            return value
        if kind is list:
            raise WireError("a bare list on the wire")
        if kind is not dict or len(value) == 0:
            raise WireError(f"unexpected {kind.__name__} on the wire")
        tag = next(iter(value))
        if tag == "$float":
            return float(_expect(value[tag], str))
        if tag == "$int":
            digits = _expect(value[tag], str)
            if len(digits) > 200:
                raise WireError("integer too long")
            return int(digits)
        if tag == "$nd":
            dtype = np.dtype(_expect(value[tag], str))
            if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
                raise WireError(f"array dtype {dtype} is not numeric")
            shape = tuple(_expect(n, int) for n in _expect(value["shape"], list))
            if any(n < 0 for n in shape):
                raise WireError("negative array dimension")
            raw = base64.b64decode(_expect(value["data"], str), validate=True)
            if len(raw) != dtype.itemsize * math.prod(shape):
                raise WireError("array data does not match its shape")
            return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        if tag == "$np":
            dtype = np.dtype(_expect(value[tag], str))
            if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
                raise WireError(f"scalar dtype {dtype} is not numeric")
            raw = base64.b64decode(_expect(value["data"], str), validate=True)
            if len(raw) != dtype.itemsize:
                raise WireError("scalar data has the wrong size")
            return np.frombuffer(raw, dtype=dtype)[0]
        if tag == "$tuple":
            return tuple(self.decode(v, depth + 1) for v in _expect(value[tag], list))
        if tag == "$list":
            return [self.decode(v, depth + 1) for v in _expect(value[tag], list)]
        if tag == "$dict":
            items = _expect(value[tag], dict)
            return {_expect(k, str): self.decode(v, depth + 1) for k, v in items.items()}
        if tag == "$rng":
            state = self.decode(value[tag], depth + 1)
            generator = np.random.Generator(np.random.PCG64())
            try:
                generator.bit_generator.state = state
            except (TypeError, ValueError, KeyError) as error:
                raise WireError(f"not a PCG64 state ({error})") from None
            return generator
        if tag == "$record":
            name = _expect(value[tag], str)
            fields = {_expect(k, str): self.decode(v, depth + 1) for k, v in _expect(value["fields"], dict).items()}
            return self._rebuild_record(name, fields)
        if tag == "$callable":
            return self._make_remote_callable(_expect(value[tag], int), str(value.get("name", "function")))
        if tag == "$foreign":
            return Foreign(str(value[tag])[:200])
        raise WireError(f"unknown tag {tag!r}")

    def _rebuild_record(self, name: str, fields: dict):
        cls = self._find_record_type(name)
        if cls is not None:
            try:
                return cls(**fields)
            except TypeError:
                pass  # not the fields of our class: keep them as a plain record
        return Record(name, fields)


def _expect(value, kind):
    if type(value) is not kind:
        raise WireError(f"expected {kind.__name__} on the wire, got {type(value).__name__}")
    return value


def _plain_state(state):
    """A bit generator state with NumPy integers made plain ints (JSON-safe)."""
    if isinstance(state, dict):
        return {k: _plain_state(v) for k, v in state.items()}
    if isinstance(state, np.integer):
        return int(state)
    return state


class Foreign:
    """Stands for an object that is not plain data: it equals nothing and supports nothing."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<a {self.type_name}, which is not plain data>"

    def __eq__(self, other):
        return False

    __hash__ = None


class Record:
    """A dataclass from the other side that has no class of that name here."""

    def __init__(self, type_name: str, fields: dict):
        object.__setattr__(self, "_type_name", type_name)
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name):
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{self._type_name} has no field {name!r}") from None

    def __iter__(self):
        return iter(self._fields.values())

    def __repr__(self) -> str:
        return f"{self._type_name}({', '.join(self._fields)})"


# ---------------------------------------------------------------- the student side


class StudentServer:
    """Serves calls from the checker: run a student function, patch a module global."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.codec = Codec(self._remote_callable, self._student_record_type)
        self.patched: dict[tuple[str, str], object] = {}
        self.missing = object()

    def _remote_callable(self, handle: int, name: str):
        def call_checker(*args, **kwargs):
            return self._request(
                {
                    "op": "callback",
                    "handle": handle,
                    "args": self.codec.encode(args),
                    "kwargs": self.codec.encode(kwargs),
                }
            )

        call_checker.__name__ = name
        return call_checker

    def _request(self, message: dict):
        """Send a callback to the checker; serve nested calls until its answer arrives."""
        send_message(self.sock, message)
        while True:
            reply = receive_message(self.sock)
            if reply["op"] == "return":
                return self.codec.decode(reply["value"])
            if reply["op"] == "raise":
                raise _exception_from(reply)
            self._serve_one(reply)

    def _student_record_type(self, name: str):
        for module_name, module in list(sys.modules.items()):
            if module_name.startswith("gmm_student"):
                candidate = getattr(module, name, None)
                if isinstance(candidate, type):
                    return candidate
        return None

    def _module(self, name: str):
        return importlib.import_module(f"gmm_student.{name}" if name else "gmm_student")

    def _serve_one(self, message: dict) -> None:
        op = message.get("op")
        try:
            if op in ("call", "call_handle"):
                if op == "call":
                    function = getattr(self._module(message["module"]), message["name"])
                else:
                    function = self.codec.local_callables[int(message["handle"])]
                args = self.codec.decode(message["args"])
                kwargs = self.codec.decode(message["kwargs"])
                generators = [a for a in (*args, *kwargs.values()) if type(a) is np.random.Generator]
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    value = function(*args, **kwargs)
                reply = {
                    "op": "return",
                    "value": self.codec.encode(value),
                    "warnings": [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]],
                    "generators": [self.codec.encode(_plain_state(g.bit_generator.state)) for g in generators],
                }
            elif op == "setattr":
                module = self._module(message["module"])
                key = (message["module"], message["name"])
                if key not in self.patched:
                    self.patched[key] = getattr(module, message["name"], self.missing)
                setattr(module, message["name"], self.codec.decode(message["value"]))
                reply = {"op": "return", "value": None}
            elif op == "restore":
                key = (message["module"], message["name"])
                if key not in self.patched:
                    send_message(self.sock, {"op": "return", "value": None})
                    return
                original = self.patched.pop(key)
                module = self._module(message["module"])
                if original is self.missing:
                    if hasattr(module, message["name"]):
                        delattr(module, message["name"])
                else:
                    setattr(module, message["name"], original)
                reply = {"op": "return", "value": None}
            elif op == "probe":
                value = getattr(self._module(message["module"]), message["name"], self.missing)
                kind = "missing" if value is self.missing else ("callable" if callable(value) else "other")
                reply = {"op": "return", "value": kind}
            elif op == "import":
                self._module(message["module"])
                reply = {"op": "return", "value": None}
            else:
                reply = {"op": "raise", "type": "RuntimeError", "message": f"unknown operation {op!r}"}
        except BaseException as error:  # noqa: BLE001 - every student error goes back to the checker
            if isinstance(error, (EOFError, WireError)) and op is None:
                raise
            reply = {
                "op": "raise",
                "type": type(error).__name__,
                "message": _short_message(error),
                "where": _student_location(error),
            }
        send_message(self.sock, reply)

    def serve(self) -> None:
        while True:
            try:
                message = receive_message(self.sock)
            except EOFError:
                return
            self._serve_one(message)


def _short_message(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except Exception:  # noqa: BLE001 - a student exception whose __str__ fails
        return "(the error message could not be printed)"


def _student_location(error: BaseException) -> str:
    """'file:line in function' of the innermost frame in the student's package."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "gmm_student" in f.filename]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{frame.filename.split('gmm_student', 1)[-1].lstrip('/')}:{frame.lineno} in {frame.name}"


def _exception_from(reply: dict) -> Exception:
    import builtins

    name = str(reply.get("type", "Exception"))
    message = str(reply.get("message", ""))
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, Warning):
        return cls(message)
    return RuntimeError(f"{name}: {message}")


def main(argv: list[str]) -> None:
    fd = int(argv[1])
    sock = socket.socket(fileno=fd)
    StudentServer(sock).serve()


if __name__ == "__main__":
    main(sys.argv)
