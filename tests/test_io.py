"""Output files are never lost: path checks before work, atomic sets, interrupts, recovery.

The invariant tested everywhere: after any failure, interrupt or kill, the files of a set are
either all the old ones (same inodes, same bytes) or all the new ones, and no temporary is left.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cfg_distortion import io
from conftest import ctrl_c_enabled

NAMES = ["a.csv", "b.png", "c.pdf"]


def _state(folder):
    return {n: ((folder / n).stat().st_ino, (folder / n).read_bytes()) for n in NAMES if (folder / n).is_file()}


def _write_set(folder, tag):
    out = io.OutputSet(folder, NAMES)
    with out:
        for n in NAMES:
            out.path(n).write_text(f"{tag} {n}\n")
    return out


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(io.TEMP_PREFIX)]


def test_set_is_committed_whole(tmp_path):
    _write_set(tmp_path, "old")
    _write_set(tmp_path, "new")
    assert {n: (tmp_path / n).read_text() for n in NAMES} == {n: f"new {n}\n" for n in NAMES}
    assert _leftovers(tmp_path) == []


def test_failure_inside_the_block_leaves_the_old_set(tmp_path):
    _write_set(tmp_path, "old")
    before = _state(tmp_path)
    out = io.OutputSet(tmp_path, NAMES)
    with pytest.raises(RuntimeError):
        with out:
            out.path("a.csv").write_text("new a\n")
            out.path("b.png").write_text("new b\n")
            raise RuntimeError("figure failed")
    assert _state(tmp_path) == before and _leftovers(tmp_path) == []


def test_member_not_written_is_an_error_and_nothing_changes(tmp_path):
    _write_set(tmp_path, "old")
    before = _state(tmp_path)
    out = io.OutputSet(tmp_path, NAMES)
    with pytest.raises(OSError):
        with out:
            p = out.path("a.csv")
            p.write_text("new\n")
            out.path("b.png")  # asked for, never written
    assert _state(tmp_path) == before and _leftovers(tmp_path) == []


def test_atomic_write_single_file(tmp_path):
    target = tmp_path / "x.txt"
    io.write_text(target, "one")
    with pytest.raises(ZeroDivisionError):
        with io.atomic_write(target) as tmp:
            tmp.write_text("two, half written")
            1 / 0
    assert target.read_text() == "one" and _leftovers(tmp_path) == []


def test_journal_left_by_a_killed_commit_is_rolled_forward(tmp_path):
    """A run killed between the first and the last rename: the next one finishes the commit."""
    _write_set(tmp_path, "old")
    dead = 2 ** 22 + 12345  # no such pid on Linux (pid_max is at most 2^22)
    pairs = []
    for i, n in enumerate(NAMES):
        tmp = tmp_path / f"{io.TEMP_PREFIX}{dead}-beef-{i}{Path(n).suffix}"
        tmp.write_text(f"new {n}\n")
        pairs.append([str(tmp), str(tmp_path / n)])
    os.replace(pairs[0][0], pairs[0][1])  # the first rename happened, then the kill
    (tmp_path / f"{io.JOURNAL_PREFIX}{dead}-beef.json").write_text(json.dumps({"renames": pairs}))
    stray = tmp_path / f"{io.TEMP_PREFIX}{dead}-cafe-0.csv"  # a partial temporary with no journal
    stray.write_text("partial")
    io.OutputSet(tmp_path, NAMES)  # any new set on the folder recovers it first
    assert {n: (tmp_path / n).read_text() for n in NAMES} == {n: f"new {n}\n" for n in NAMES}
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("make,word", [
    (lambda d: d / "afile" / "sub", "not a folder"),        # a file where a folder goes
    (lambda d: d / ("x" * 300), "longer"),                   # over-long name
    (lambda d: Path("/proc/x"), "cannot"),                   # not writable
])
def test_unusable_folder_is_refused_in_one_line(tmp_path, make, word):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ValueError) as exc:
        io.OutputSet(make(tmp_path), NAMES, name="out")
    msg = str(exc.value)
    assert msg.startswith("out ") and word in msg and "\n" not in msg


def test_folder_where_a_member_goes_is_refused_before_any_change(tmp_path):
    _write_set(tmp_path, "old")
    (tmp_path / "b.png").unlink()
    (tmp_path / "b.png").mkdir()
    before = _state(tmp_path)
    with pytest.raises(ValueError, match="b.png.*is a folder"):
        io.OutputSet(tmp_path, NAMES)
    assert _state(tmp_path) == before


@pytest.mark.parametrize("path,word", [
    ("missing/f.txt", "does not exist"), ("afile/f.txt", "not a folder"), ("adir", "is a folder"),
    ("y" * 300 + ".txt", "longer"), ("/proc/x.txt", "cannot"),
])
def test_unusable_file_is_refused(tmp_path, path, word):
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    p = path if path.startswith("/") else tmp_path / path
    with pytest.raises(ValueError, match=word) as exc:
        io.check_file(p, name="plot")
    assert str(exc.value).startswith("plot ")


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from cfg_distortion import io
    folder, tag, first_pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    out = io.OutputSet(folder, {names!r})
    print("ready", flush=True)
    with out:
        for i, n in enumerate({names!r}):
            out.path(n).write_text(tag + " " + n + "\\n")
            if i == 0:
                print("first written", flush=True)
            time.sleep(first_pause if i == 0 else 0.05)
""").format(names=NAMES)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_while_writing_leaves_old_or_new_set(tmp_path, sig):
    """Interrupts at spread-out moments of a slow writer: never a mix, never a temporary left. The
    first interrupt is sent once the writer has written its first file and pauses for 2 s, so that
    at least one lands inside the writing however loaded the machine is; the others at spread-out
    delays after the start."""
    _write_set(tmp_path, "old")
    outcomes = set()
    for k in range(6):
        before = _state(tmp_path)
        p = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(tmp_path), f"new{k}", "2" if k == 0 else "0.05"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_enabled)
        assert p.stdout.readline().strip() == "ready"
        if k == 0:
            assert p.stdout.readline().strip() == "first written"
        time.sleep(0.04 * k)
        p.send_signal(sig)
        p.communicate(timeout=30)
        after = _state(tmp_path)
        inodes_same = [after[n][0] == before[n][0] for n in NAMES]
        assert all(inodes_same) or not any(inodes_same), "a mix of old and new files"
        if all(inodes_same):
            assert after == before
            outcomes.add("old")
        else:
            assert {n: after[n][1] for n in NAMES} == {n: f"new{k} {n}\n".encode() for n in NAMES}
            outcomes.add("new")
        assert _leftovers(tmp_path) == []
    assert "old" in outcomes  # the early interrupts did land inside the writing


def test_figure_pair_through_a_temporary_stem(tmp_path):
    """A writer that appends .png and .pdf itself (plots.common.save) writes both members."""
    from cfg_distortion.plots.common import save
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = io.OutputSet(tmp_path, ["fig.png", "fig.pdf", "fig.csv"])
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    with out:
        save(fig, str(out.stem("fig")))
        out.path("fig.csv").write_text("x\n")
    plt.close(fig)
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "fig.pdf").read_bytes()[:4] == b"%PDF"
    assert _leftovers(tmp_path) == []
