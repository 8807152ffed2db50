"""Every ```python block of the README runs as written, in a fresh namespace and an empty folder."""
import os
import re

import pytest
from conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)


def test_readme_has_a_python_tour():
    text = "\n".join(BLOCKS)
    for name in ("cd.trajectory", ".sample(", "cd.phase_diagram", "cd.equations", ".latex()"):
        assert name in text, name


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})
    plt.close("all")
    out = capsys.readouterr().out
    assert out.strip(), "a README block should print what it shows"
    if "cd.trajectory(alpha=0.3, omega=3" in BLOCKS[index]:  # the numbers the README quotes
        assert out.startswith("ok 1.298") and " 0.965" in out
    if "pd.to_csv" in BLOCKS[index]:
        assert os.path.getsize(tmp_path / "phase_diagram.csv") > 0 and "0.3465735" in out
