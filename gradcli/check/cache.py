"""The derivative cache on disk, safe to keep in a shared place (SPEC 5).

Files live in ``$GRADCLI_CACHE_DIR/derivatives`` (default ``~/.cache/gradcli``;
``GRADCLI_NO_CACHE=1`` turns the cache off), one JSON file per key.  The key covers
everything that can change a formula: a fingerprint of gradcli's own code (every
module's bytes) and of its op table, SymPy's release, the program, and the bindings'
names, shapes and flags.

Nothing is trusted that another user could have made: the directory must be a real
directory (no symlink) owned by the user and writable by no one else; a file is opened
relative to it with O_NOFOLLOW and O_NONBLOCK (a FIFO cannot block), used only if it is
a regular file owned by the user, writable by no one else and not over the size limit,
and read with a bounded read.  New files are created with O_EXCL|O_NOFOLLOW, mode
0600, under a temporary name, and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

FORMAT = 3
MAX_BYTES = 64 << 20          # a cache file larger than this is not read
_fingerprint = None


def directory():
    if os.environ.get("GRADCLI_NO_CACHE") == "1":
        return None
    root = os.environ.get("GRADCLI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "gradcli")
    return os.path.join(root, "derivatives")


def code_fingerprint() -> str:
    """A digest of every module of the gradcli package and of the op table (computed
    once per process: ~2 ms)."""
    global _fingerprint
    if _fingerprint is None:
        from ..autograd.ops import REGISTRY
        digest = hashlib.sha256()
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for folder, dirs, files in sorted(os.walk(package)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, package).encode() + b"\0")
                    with open(path, "rb") as fh:
                        digest.update(fh.read() + b"\0")
        for name, op in sorted(REGISTRY.items()):
            digest.update(repr((name, op.grad_fn, op.derivative, op.elementwise,
                                op.broadcasts, op.variadic)).encode())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def _sympy_release() -> str:
    """SymPy's release file, as text, found without importing SymPy (importlib.metadata
    would cost 13 ms of a 250 ms batch)."""
    from importlib.util import find_spec
    try:
        spec = find_spec("sympy")
        with open(os.path.join(os.path.dirname(spec.origin), "release.py"), "rb") as fh:
            return fh.read(4096).decode("utf-8", "replace")
    except (AttributeError, OSError, TypeError, ValueError):  # pragma: no cover
        return "?"


def key(parts: list) -> str:
    """The file name (without .json) for a formula built from ``parts``."""
    text = json.dumps([FORMAT, code_fingerprint(), _sympy_release(), *parts])
    return hashlib.sha256(text.encode()).hexdigest()


def _safe(info) -> bool:
    """Owned by this user and writable by no one else."""
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _open_directory(create: bool):
    """A descriptor of the cache directory when it is safe to use, else None."""
    path = directory()
    if path is None or not hasattr(os, "O_NOFOLLOW") or not hasattr(os, "getuid"):
        return None
    try:
        if create:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            if info.st_mode & 0o022:        # ours but open to others (an older gradcli,
                os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~0o022)   # a loose umask)
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def load(name: str):
    """The decoded JSON of a cache file, or None (absent, unsafe, too big, not JSON)."""
    folder = _open_directory(create=False)
    if folder is None:
        return None
    try:
        fd = os.open(name + ".json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                     os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        os.close(folder)
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _safe(info) or info.st_size > MAX_BYTES:
            return None
        data = _read(fd, info.st_size)
        if data is None:
            return None
        import msgspec
        return msgspec.json.decode(data)
    except (OSError, ValueError, RecursionError):
        return None
    except Exception:  # noqa: BLE001 - msgspec.DecodeError and kin: no cache entry
        return None
    finally:
        os.close(fd)
        os.close(folder)


def _read(fd: int, size: int):
    """At most MAX_BYTES (None when the file holds more than it said)."""
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_BYTES:
            return None


def save(name: str, data) -> None:
    """Write a cache file atomically; any failure just leaves no cache entry."""
    folder = _open_directory(create=True)
    if folder is None:
        return
    tmp = f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    try:
        text = json.dumps(data, separators=(",", ":")).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW |
                     os.O_CLOEXEC, 0o600, dir_fd=folder)
        try:
            view = memoryview(text)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, name + ".json", src_dir_fd=folder, dst_dir_fd=folder)
    except (OSError, ValueError, RecursionError):
        try:
            os.unlink(tmp, dir_fd=folder)
        except OSError:
            pass
    finally:
        os.close(folder)
