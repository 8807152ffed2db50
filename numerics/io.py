"""Output files that are never lost: path checks before work, atomic writes of a set of files.

Every command and API function that writes files goes through this module:

- :func:`check_file` and :func:`check_dir` refuse an unusable output path *before* any work,
  with a ``ValueError`` of one line that names the parameter (``out``, ``plot``, ``dir``): a
  missing or non-directory parent, a directory where a file goes, a name longer than the
  file system allows, a folder that cannot be written.
- :class:`OutputSet` writes a set of files all-or-nothing. Each member is written to a temporary
  name in its own folder (``.~cfgd-<pid>-<token><suffix>``); when the block ends without an
  exception the temporaries are renamed over the final names; on an exception, an interrupt
  (SIGINT) or SIGTERM they are removed and the old files stay untouched.
- The renames of a set are one commit: a journal (``.~cfgd-commit-<pid>-<token>.json``, the list
  of pending renames) is written and synced first, SIGINT and SIGTERM are held while the renames
  run, and the journal is removed last. If the process dies in between (SIGKILL, power loss) the
  next :class:`OutputSet` on that folder, or :func:`recover`, finishes the renames from the
  journal (every temporary it names is complete), so a reader sees the complete old set or the
  complete new set, never a mix. A journal left in a folder is the marker of an unfinished commit.

Usage::

    out = OutputSet("res", ["phase_diagram.csv", "phase_diagram.png"], name="out")  # checks now
    ...                                          # the work
    with out:                                    # temporaries, committed together at the end
        write_csv(out.path("phase_diagram.csv"))
        fig.savefig(out.path("phase_diagram.png"))

    with atomic_write("table.csv", name="out") as tmp:   # a set of one file
        write(tmp)
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

TEMP_PREFIX = ".~cfgd-"
JOURNAL_PREFIX = ".~cfgd-commit-"
_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


def _quote(path) -> str:
    return repr(str(path))


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _path_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        return 4096


def _probe(folder: Path, name: str, shown) -> None:
    """Create and remove a temporary file in ``folder``: the only sure test of writability."""
    probe = folder / f"{TEMP_PREFIX}{os.getpid()}-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{name} {_quote(shown)}: folder {_quote(folder)} cannot be written "
                         f"({exc.strerror or exc})") from None


def check_dir(path, name: str = "out", create: bool = True) -> Path:
    """Check (before any work) that ``path`` is, or can be made, a writable folder; return it.

    With ``create`` the missing folders are made now (an empty folder is all that is left if the
    work then fails). ValueError with one line naming ``name`` otherwise.
    """
    if path is None or str(path) == "":
        raise ValueError(f"{name} must be a folder path (got {path!r})")
    p = Path(path)
    if len(os.fsencode(str(p.absolute()))) >= _path_max(Path(".")):
        raise ValueError(f"{name} {_quote(path)}: path longer than the file system allows")
    for part in p.parts:
        if len(os.fsencode(part)) > 255:
            raise ValueError(f"{name} {_quote(path)}: a folder name is longer than the file system allows "
                             f"(255 bytes)")
    if p.exists() and not p.is_dir():
        raise ValueError(f"{name} {_quote(path)}: exists and is not a folder")
    if not p.exists():
        # the nearest existing ancestor must be a folder we can write into
        anc = p.absolute().parent
        while not anc.exists():
            anc = anc.parent
        if not anc.is_dir():
            raise ValueError(f"{name} {_quote(path)}: {_quote(anc)} is a file, not a folder")
        if not create:
            raise ValueError(f"{name} {_quote(path)}: no such folder")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"{name} {_quote(path)}: cannot create the folder ({exc.strerror or exc})") from None
    _probe(p, name, path)
    return p


def check_file(path, name: str = "out", create_parent: bool = False) -> Path:
    """Check (before any work) that a file can be written at ``path``; return it as a Path.

    The parent folder must exist (or is made with ``create_parent``) and be writable, ``path``
    must not be a folder, and its name must fit the file system. ValueError with one line
    naming ``name`` otherwise.
    """
    if path is None or str(path) == "" or str(path).endswith(os.sep):
        raise ValueError(f"{name} must be a file path (got {path!r})")
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir() or any(a.exists() and not a.is_dir() for a in p.absolute().parents):
        raise ValueError(f"{name} {_quote(path)}: {_quote(parent)} is not a folder")
    if not parent.exists():
        if not create_parent:
            raise ValueError(f"{name} {_quote(path)}: folder {_quote(parent)} does not exist")
        check_dir(parent, name=name, create=True)
    if len(os.fsencode(p.name)) > _name_max(parent):
        raise ValueError(f"{name} {_quote(path)}: file name longer than the file system allows "
                         f"({_name_max(parent)} bytes)")
    if len(os.fsencode(str(p.absolute()))) >= _path_max(parent):
        raise ValueError(f"{name} {_quote(path)}: path longer than the file system allows")
    if p.is_dir():
        raise ValueError(f"{name} {_quote(path)}: is a folder, a file is written there")
    if p.exists() and not os.access(p, os.W_OK) and not os.access(parent, os.W_OK):
        raise ValueError(f"{name} {_quote(path)}: file cannot be replaced (permission denied)")
    _probe(parent, name, path)
    return p


def _fsync_path(path: Path, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(folder) -> list[Path]:
    """Finish the commits that a killed run left in ``folder``; remove its stray temporaries.

    A journal names temporaries that were complete when it was written: they are renamed over
    their final names (roll forward). Temporaries of dead processes with no journal are partial
    and removed. Returns the final paths that were completed.
    """
    folder = Path(folder)
    done = []
    if not folder.is_dir():
        return done
    try:
        entries = list(folder.iterdir())
    except OSError:
        return done
    for journal in sorted(e for e in entries if e.name.startswith(JOURNAL_PREFIX)):
        pid = _pid_of(journal.name[len(JOURNAL_PREFIX):])
        if pid is not None and pid != os.getpid() and _pid_alive(pid):
            continue  # a live run is committing right now
        try:
            pairs = json.loads(journal.read_text())["renames"]
        except (OSError, ValueError, KeyError, TypeError):
            pairs = []
        for tmp, final in pairs:
            tmp, final = Path(tmp), Path(final)
            if tmp.exists():
                os.replace(tmp, final)
                done.append(final)
        journal.unlink(missing_ok=True)
    for e in entries:
        if e.name.startswith(TEMP_PREFIX) and not e.name.startswith(JOURNAL_PREFIX) and e.exists():
            pid = _pid_of(e.name[len(TEMP_PREFIX):])
            if pid is not None and not _pid_alive(pid):
                try:
                    e.unlink()
                except OSError:
                    pass
    return done


def _pid_of(rest: str):
    try:
        return int(rest.split("-", 1)[0])
    except ValueError:
        return None


@contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM (delivered when the block ends) where the platform allows it."""
    held = hasattr(signal, "pthread_sigmask") and bool(_SIGNALS)
    if held:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises KeyboardInterrupt (like Ctrl-C) so cleanup runs.

    Only in the main thread and only where SIGTERM still has its default action.
    """
    sig = getattr(signal, "SIGTERM", None)
    installed = False
    if sig is not None and threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(sig) == signal.SIG_DFL:
                old = signal.signal(sig, _raise_interrupt)
                installed = True
        except (ValueError, OSError):
            installed = False
    try:
        yield
    finally:
        if installed:
            signal.signal(sig, old)


class OutputSet:
    """A set of output files written all-or-nothing (see the module docstring).

    ``OutputSet(folder, names, name="out")`` checks the folder and every member now (the
    folder is created if missing), before the caller's work; ``paths=[...]`` instead of a folder
    and names gives members in several folders (each checked as a file). Inside ``with``,
    ``path(member)`` gives the temporary to write (same folder, same suffix, so matplotlib and
    numpy pick the format from it). Members never asked for keep their old file.
    """

    def __init__(self, folder=None, names=(), *, paths=(), name: str = "out", create: bool = True):
        self.name = name
        self.finals: dict[str, Path] = {}
        if folder is not None:
            d = check_dir(folder, name=name, create=create)
            for n in names:
                self.finals[n] = check_file(d / n, name=name)
        for p in paths:
            self.finals[str(p)] = check_file(p, name=name, create_parent=create)
        for d in {p.parent for p in self.finals.values()}:
            recover(d)
        self._temps: dict[str, Path] = {}
        self._token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._stack = None

    @property
    def files(self) -> dict[str, Path]:
        return dict(self.finals)

    def path(self, member) -> Path:
        """The temporary to write for ``member`` (a name given at construction, or its final path)."""
        key = str(member)
        if key not in self.finals:
            matches = [k for k, p in self.finals.items() if str(p) == key or p.name == key]
            if len(matches) != 1:
                raise KeyError(f"{member!r} is not a member of this output set")
            key = matches[0]
        if key not in self._temps:
            final = self.finals[key]
            stems = sorted({str(p.with_suffix("")) for p in self.finals.values()})
            k = stems.index(str(final.with_suffix("")))  # FILE.png and FILE.pdf share a temporary stem
            self._temps[key] = final.parent / f"{TEMP_PREFIX}{self._token}-{k}{final.suffix}"
        return self._temps[key]

    def stem(self, stem) -> Path:
        """The temporary stem for the members ``stem + suffix`` (a figure's .png and .pdf): a writer
        that appends the suffixes itself writes the temporaries of all of them."""
        members = [k for k, p in self.finals.items() if p.with_suffix("") == Path(stem) or p.stem == str(stem)]
        if not members:
            raise KeyError(f"no member of this output set has the stem {stem!r}")
        temps = [self.path(k) for k in members]
        return temps[0].with_suffix("")

    def __enter__(self):
        self._stack = terminate_as_interrupt()
        self._stack.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.commit()
            else:
                self.discard()
        finally:
            stack, self._stack = self._stack, None
            if stack is not None:
                stack.__exit__(None, None, None)
        return False

    def discard(self) -> None:
        for tmp in self._temps.values():
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        self._temps.clear()

    def commit(self) -> dict[str, Path]:
        """Rename every written temporary over its final name, as one commit."""
        pairs, renaming, journal = [], False, None
        try:
            for key, tmp in self._temps.items():
                if not tmp.exists():
                    raise OSError(errno.ENOENT, f"{self.name}: {self.finals[key]} was not written")
                _fsync_path(tmp)
                pairs.append((tmp, self.finals[key]))
            if not pairs:
                return {}
            folders = sorted({str(f.parent) for _, f in pairs})
            journal = Path(folders[0]) / f"{JOURNAL_PREFIX}{self._token}.json"
            with _signals_held():
                if len(pairs) > 1:
                    journal.write_text(json.dumps({"renames": [[str(t), str(f)] for t, f in pairs]}))
                    _fsync_path(journal)
                    _fsync_path(journal.parent, directory=True)
                renaming = True  # from here on the commit is finished, by this process or from the journal
                _finish(pairs, journal, folders)
        except BaseException:
            # an interrupt caught by Python just before the signals were held is raised in here
            if renaming:
                _finish(pairs, journal, folders)
            else:
                self.discard()
                if journal is not None:
                    journal.unlink(missing_ok=True)
            raise
        self._temps.clear()
        return {k: self.finals[k] for k in self.finals}


def _finish(pairs, journal: Path, folders) -> None:
    """Rename every temporary still there over its final name (idempotent), then drop the journal."""
    for tmp, final in pairs:
        if tmp.exists():
            os.replace(tmp, final)
    for folder in folders:
        _fsync_path(Path(folder), directory=True)
    journal.unlink(missing_ok=True)


@contextmanager
def atomic_write(path, name: str = "out", create_parent: bool = False):
    """Write one file atomically: yields a temporary Path in the same folder, renamed over
    ``path`` when the block ends without an exception (removed otherwise)."""
    out = OutputSet(paths=[path], name=name, create=create_parent)
    with out:
        yield out.path(str(path))


def write_text(path, text: str, name: str = "out") -> Path:
    """``Path(path).write_text(text)``, atomically."""
    with atomic_write(path, name=name) as tmp:
        tmp.write_text(text)
    return Path(path)
