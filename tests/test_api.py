"""The public API: its names, its results equal to the CLI's --json on the README's examples,
its ValueError messages equal to the CLI's one line, and callables as schedules."""
import json
import math
import re
import shlex

import numpy as np
import pytest
from conftest import REPO

import cfg_distortion as cd
from cfg_distortion.cli.app import main

README = (REPO / "README.md").read_text()
CLI_ONLY = {"files", "plot", "plots", "csv", "figure", "seconds", "timings"}  # where the CLI wrote files, wall time

# README command -> the same question through the API (cheap ones; the README's phase-diagram
# grids and validate are exercised at small size below and in the slow suite, and so are the
# examples marked slow here)
EXAMPLES = [
    ("cfg-distortion critical --sigma2 1 --t 0.5", lambda: cd.alpha_c(0.5, sigma2=1)),
    ("cfg-distortion critical --sigma2 0.25 --alpha 0.5 --process ve --json",
     lambda: cd.t_c(0.5, sigma2=0.25, process="ve")),
    ("cfg-distortion critical --sigma2 0 --alpha 0.2", lambda: cd.t_c(0.2, sigma2=0)),
    ("cfg-distortion trajectory --alpha 0.3 --omega 3 --sigma2 1", lambda: cd.trajectory(0.3, 3, sigma2=1)),
    ("cfg-distortion trajectory --alpha inf --omega 3 --sigma2 1 --sampler ode --json",
     lambda: cd.trajectory(math.inf, omega=3, sigma2=1, sampler="ode")),
    ("cfg-distortion trajectory --alpha 0.3 --schedule 'piecewise:inf:3,1.2:-1,0.9:0' --sigma2 1",
     lambda: cd.trajectory(0.3, schedule="piecewise:inf:3,1.2:-1,0.9:0", sigma2=1)),
    ("cfg-distortion schedule-design --alpha 0.3 --sigma2 1 --omega 3 --json",
     lambda: cd.design_schedule(0.3, 3, sigma2=1)),
    pytest.param("cfg-distortion schedule-design --alpha 0.3 --sigma2 5 --omega 3",
                 lambda: cd.design_schedule(0.3, 3, sigma2=5), marks=pytest.mark.slow),  # 7 strengths tried
    ("cfg-distortion schedules --alpha 0.3 --sigma2 1", lambda: cd.compare_schedules(0.3, sigma2=1)),
    ("cfg-distortion simulate --d 20 --alpha 0.3 --omega 3 --sigma2 1",
     lambda: cd.simulate(20, alpha=0.3, omega=3, sigma2=1)),
    ("cfg-distortion simulate --d 20 --K 1000 --schedule piecewise:inf:3,1.2:-1,0.4:0 --sigma2 1 --json",
     lambda: cd.simulate(20, K=1000, schedule="piecewise:inf:3,1.2:-1,0.4:0", sigma2=1)),
    # 2 x 5 s of CPU at its default paths and steps; finite-d's API and CLI are compared by value at a
    # smaller size in test_json_contract::test_finite_d
    pytest.param("cfg-distortion finite-d --d 20 --alpha 0.3 --omega 3 --sigma2 1 --json",
                 lambda: cd.finite_d(20, alpha=0.3, omega=3, sigma2=1), marks=pytest.mark.slow),
]


def cli_json(argv, capsys):
    argv = [a for a in argv if a != "--json"] + ["--json"]
    code = main(argv)
    out = json.loads(capsys.readouterr().out)
    return code, {k: v for k, v in out.items() if k not in CLI_ONLY}


def same(a, b, path="") -> None:
    """Equal by value: numbers to 1e-12 relative (the same computation twice), the rest exactly."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), (path, sorted(a.keys() ^ b.keys()))
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), path
    else:
        assert a == b, path


def _id(example):
    command = example.values[0] if hasattr(example, "values") else example[0]
    return " ".join(command.split()[1:4])


@pytest.mark.parametrize("command,api", EXAMPLES, ids=[_id(e) for e in EXAMPLES])
def test_api_equals_cli_json_on_the_readme_examples(command, api, capsys):
    assert command in README, "the example is no longer in the README"
    code, cli = cli_json(shlex.split(command)[1:], capsys)
    result = api()
    assert isinstance(result, cd.Result)
    same(json.loads(result.to_json_string()), cli)
    assert result.status in ("ok", "no_window")
    assert code == (1 if result.status == "no_window" else 0)
    assert result.status == "ok" or result.message


def test_phase_diagram_equals_cli_json_and_csv(tmp_path, capsys):
    code, cli = cli_json(["phase-diagram", "--alpha", "0.1:0.6:3", "--omega", "0:3:2", "--out", str(tmp_path)],
                         capsys)
    res = cd.phase_diagram(alpha="0.1:0.6:3", omega="0:3:2")
    assert code == 0 and res.status == "ok" and isinstance(res, cd.GridResult)
    same({k: v for k, v in json.loads(res.to_json_string()).items() if k not in CLI_ONLY}, cli)
    assert res.to_csv(tmp_path / "api.csv") and (tmp_path / "api.csv").read_text() == \
        (tmp_path / "phase_diagram.csv").read_text()
    assert res.m_final.shape == (3, 2) and res.alphas.tolist() == [0.1, 0.35, 0.6]
    # coordinates and arrays: the boundary at omega = 0 is the unguided alpha_c(0) = log(1 + 1/sigma2)/2
    assert res.alpha_c[0] == pytest.approx(math.log(2) / 2, abs=2e-6)
    assert np.array_equal(res.classified, res.alphas[:, None] < res.alpha_c[None, :])
    fig = res.plot()
    assert fig.axes and fig.axes[0].get_xlabel()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_api_names_exist_and_are_documented():
    for name in ("alpha_c", "t_c", "trajectory", "phase_diagram", "design_schedule", "compare_schedules",
                 "simulate", "finite_d", "validate", "equations"):
        fn = getattr(cd, name)
        assert name in cd.__all__ and len(fn.__doc__) > 200, name
    assert cd.__version__ and cd.__version__ != "0+unknown"
    assert cd.theory.__name__ == "cfg_distortion.theory"


@pytest.mark.parametrize("call,argv", [
    (lambda: cd.alpha_c(1.0, sigma2=-1), ["critical", "--sigma2", "-1", "--t", "1"]),
    (lambda: cd.trajectory(0.3, 1, sigma2=1, sampler="euler"), None),
    (lambda: cd.trajectory(0.3, schedule="piecewise:1:2,3:1"),
     ["trajectory", "--alpha", "0.3", "--schedule", "piecewise:1:2,3:1"]),
    (lambda: cd.phase_diagram(alpha="0:1"), ["phase-diagram", "--alpha", "0:1"]),
    (lambda: cd.design_schedule(0.3, 0), ["schedule-design", "--alpha", "0.3", "--omega", "0"]),
    (lambda: cd.simulate(20, K=1), ["simulate", "--d", "20", "--K", "1", "--omega", "1"]),
    (lambda: cd.finite_d(20, alpha=0.3, sigma2=0), ["finite-d", "--d", "20", "--alpha", "0.3", "--omega", "1",
                                                     "--sigma2", "0"]),
])
def test_api_raises_the_cli_message(call, argv, capsys, tmp_path):
    with pytest.raises(ValueError) as info:
        call()
    if argv is None:
        return
    if argv[0] == "phase-diagram":
        argv = argv + ["--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(str(info.value)), (err, str(info.value))


@pytest.mark.xdist_group("sympy")  # builds equations: on the worker of the symbolic tests
def test_equations_by_label_group_and_all():
    one = cd.equations("eq:drift-G-sde-v")
    assert len(one) == 1 and one[0].label == "eq:drift-G-sde-v"
    tex = one.latex()
    assert "g_t^2" in tex and "f_t" in tex and "g_{2}" not in tex
    group = cd.equations("dmf")  # exactly the labels listed under its title in derivations/equations.md
    listed = (REPO / "derivations" / "equations.md").read_text().split("## Mean-field dynamics")[1].split("\n## ")[0]
    assert [e.label for e in group] == re.findall(r"`(eq:[A-Za-z0-9-]+)`", listed)
    assert group["eq:drift-G-sde-v"].expr == one[0].expr
    with pytest.raises(ValueError, match="neither an equation label"):
        cd.equations("eq:nothing")


def test_callable_schedule_equals_its_spec():
    """A scalar-only callable and a vectorised one give the spec's trajectory (to the solver's tolerance:
    the callable's jumps are not known to the integrator, which steps over them adaptively)."""
    spec = cd.trajectory(0.3, schedule="piecewise:inf:3,1.2:-1,0.9:0")
    scalar = cd.trajectory(0.3, schedule=lambda t: 3.0 if t > 1.2 else (-1.0 if t > 0.9 else 0.0))
    vector = cd.trajectory(0.3, schedule=lambda t: np.where(t > 1.2, 3.0, np.where(t > 0.9, -1.0, 0.0)))
    for tr in (scalar, vector):
        assert tr.m_final == pytest.approx(spec.m_final, abs=1e-6)
        assert tr.v_final == pytest.approx(spec.v_final, abs=1e-6)
        assert tr.schedule == "callable:<lambda>" and tr.status == "ok"
