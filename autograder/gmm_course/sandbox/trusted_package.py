"""A trusted ``gmm_student`` whose blank functions call into the student's process.

The checker imports the *released skeleton* (our own file, never the student's copy)
as ``gmm_student``: its given code (data loading, visible checks, classes) is ours.
Each blank function (one whose body raises ``NotImplementedError``) is replaced by a
:class:`RemoteFunction` that runs the student's implementation in the jailed student
process. Setting or deleting a module attribute (what ``mock.patch.object`` does in a
test) is forwarded to the student's module of the same name, so a test that swaps in
a reference helper or a fake swaps it on both sides.

The same holds for modules of the Python installation (:func:`watch_installed_modules`):
a test that forbids ``np.linalg.inv`` by patching it forbids it where the student's
code runs, exactly as in the student's kernel. Only changes made by test code (a
notebook cell, or ``unittest.mock`` on its behalf) are mirrored, never a library's own.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import sys
import types
from pathlib import Path
from unittest import mock

from .remote import StudentSession

PACKAGE = "gmm_student"


def blank_functions(package_dir: Path) -> dict[str, list[str]]:
    """``{module: [function, ...]}`` of the module-level functions that raise NotImplementedError."""
    found: dict[str, list[str]] = {}
    for path in sorted(package_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(statement, ast.Raise)
                and isinstance(statement.exc, ast.Call | ast.Name)
                and "NotImplementedError" in ast.unparse(statement.exc)
                for statement in node.body
            ):
                found.setdefault(path.stem, []).append(node.name)
    return found


class RemoteFunction:
    """Calls ``gmm_student.<module>.<name>`` in the student process."""

    def __init__(self, session: StudentSession, module: str, name: str, stub):
        self._session = session
        self._module = module
        self.__name__ = name
        self.__qualname__ = name
        if stub is not None:
            self.__doc__ = stub.__doc__
            self.__wrapped__ = stub  # inspect.signature shows the released signature

    def __call__(self, *args, **kwargs):
        return self._session.call(self._module, self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<student function {self._module}.{self.__name__}>"


class ForwardingModule(types.ModuleType):
    """A module whose attribute changes are mirrored in the student's module.

    A name the released module lacks but the student's module has as a function (a
    helper of their own) is looked up there, so that a test can swap it out exactly
    as it would in the student's kernel.
    """

    def __getattr__(self, name):
        entry = _FORWARDING.get(self.__name__)
        if entry is None or name.startswith("__"):
            raise AttributeError(name)
        session, remote_name, originals = entry
        if session.probe(remote_name, name) != "callable":
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        proxy = RemoteFunction(session, remote_name, name, None)
        types.ModuleType.__setattr__(self, name, proxy)
        originals[name] = proxy
        return proxy

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        _forward(self, name, value)

    def __delattr__(self, name):
        super().__delattr__(name)
        _forward(self, name, _DELETED)


_DELETED = object()
_FORWARDING: dict[str, tuple[StudentSession, str, dict]] = {}


def _mirrorable(value) -> bool:
    """A function (not a class or module) or a plain scalar: what a patch may put in the student's module."""
    if callable(value):
        return not isinstance(value, type | types.ModuleType)
    return value is None or isinstance(value, bool | int | float | str)


def _forward(module: types.ModuleType, name: str, value) -> None:
    entry = _FORWARDING.get(module.__name__)
    if entry is None or name.startswith("__"):
        return
    session, remote_name, originals = entry
    if value is _DELETED or originals.get(name, _DELETED) is value:
        session.restore_global(remote_name, name)
    elif _mirrorable(value):
        session.set_global(remote_name, name, value)


# ---------------------------------------------------------------- modules of the installation

#: Never mirrored: the course's own packages (the student has none of them but gmm_student, which
#: ForwardingModule covers) and the interpreter's state.
_NOT_WATCHED = ("gmm_student", "gmm_reference", "gmm_course", "__main__", "sys", "builtins")
_WATCH: dict = {"session": None, "seen": 0, "originals": {}}


def _from_test_code(frame) -> bool:
    """True if the frame that set the attribute runs a notebook cell's code (or a function it defined) or mock.

    The checker runs cells in a namespace named ``__main__`` and labels their code ``<grade_id>``.
    """
    module = frame.f_globals.get("__name__")
    return module == "unittest.mock" or (module == "__main__" and frame.f_code.co_filename.startswith("<"))


class WatchedModule(types.ModuleType):
    """A module of the installation whose attribute changes by test code are mirrored in the student's process."""

    def __setattr__(self, name, value):
        previous = self.__dict__.get(name, _DELETED)
        super().__setattr__(name, value)
        _mirror(self, name, previous, value, sys._getframe(1))

    def __delattr__(self, name):
        previous = self.__dict__.get(name, _DELETED)
        super().__delattr__(name)
        _mirror(self, name, previous, _DELETED, sys._getframe(1))


def _mirror(module: types.ModuleType, name: str, previous, value, caller) -> None:
    session = _WATCH["session"]
    if session is None or name.startswith("__") or not _from_test_code(caller):
        return
    key = (module.__name__, name)
    original = _WATCH["originals"].setdefault(key, previous)
    if value is original or not _mirrorable(value):
        session.restore_global(module.__name__, name, absolute=True)
    else:
        session.set_global(module.__name__, name, value, absolute=True)


def watch_installed_modules() -> None:
    """Watch every plain module of the installation loaded so far (cheap when none is new)."""
    if _WATCH["session"] is None or len(sys.modules) == _WATCH["seen"]:
        return
    for name, module in list(sys.modules.items()):
        if type(module) is types.ModuleType and name.split(".", 1)[0] not in _NOT_WATCHED:
            with contextlib.suppress(TypeError):
                module.__class__ = WatchedModule
    _WATCH["seen"] = len(sys.modules)


_unwatched_enter = mock._patch.__enter__


def _watching_enter(self):
    """``mock.patch`` entering: watch the module it patches first, even one the test has just imported."""
    with contextlib.suppress(Exception):
        self.getter()  # imports the target of mock.patch("package.module.name")
    watch_installed_modules()
    return _unwatched_enter(self)


def import_trusted_package(skeleton_parent: Path, session: StudentSession) -> types.ModuleType:
    """Import the skeleton at ``skeleton_parent/gmm_student`` with its blanks calling the student."""
    if PACKAGE in sys.modules:
        raise RuntimeError("gmm_student is already imported in the checker")
    sys.path.insert(0, str(skeleton_parent))
    try:
        package = importlib.import_module(PACKAGE)
        for path in sorted((skeleton_parent / PACKAGE).glob("*.py")):
            if path.stem != "__init__":
                importlib.import_module(f"{PACKAGE}.{path.stem}")
    finally:
        sys.path.remove(str(skeleton_parent))
    modules = {
        name: module for name, module in sys.modules.items() if name == PACKAGE or name.startswith(PACKAGE + ".")
    }
    replacements = {}
    for module_name, names in blank_functions(skeleton_parent / PACKAGE).items():
        module = modules[f"{PACKAGE}.{module_name}"]
        for name in names:
            stub = getattr(module, name)
            replacements[id(stub)] = RemoteFunction(session, module_name, name, stub)
    for full_name, module in modules.items():
        for attribute, value in list(vars(module).items()):
            if id(value) in replacements:
                setattr(module, attribute, replacements[id(value)])
        module.__class__ = ForwardingModule
        remote_name = full_name[len(PACKAGE) + 1 :]
        _FORWARDING[full_name] = (session, remote_name, dict(vars(module)))
    _WATCH["session"] = session
    watch_installed_modules()
    mock._patch.__enter__ = _watching_enter
    return package


def record_type_finder(name: str):
    """The trusted class a record named ``name`` is rebuilt as (from the trusted gmm_student)."""
    for module_name, module in list(sys.modules.items()):
        if module_name == PACKAGE or module_name.startswith(PACKAGE + "."):
            candidate = getattr(module, name, None)
            if isinstance(candidate, type):
                return candidate
    return None
