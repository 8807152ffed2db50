"""Mutation check: does the default test suite catch small, realistic bugs?

Each mutant in :data:`MUTANTS` is one text replacement (``old`` -> ``new``) in one file,
anchored on a short snippet that must occur exactly once; a mutant whose anchor is gone
(the code moved on) is reported as ``stale``, never as killed. Theory mutants can ask for
the generated code and the derivation documents to be rebuilt from the mutated theory
(``regenerate``), so that they are the consistent bug a developer would commit, not a stale
``_generated.py`` that the freshness test catches for free.

How it runs: ``--jobs`` workers (default 2) each copy the repository's files (tracked and
untracked, not ignored) to a temporary folder and make a bare virtual environment whose
``.pth`` files put this interpreter's site-packages (the dependencies) on the path and map
the import name ``cfg_distortion`` to the copy (``numerics/`` and ``theory/``, as the editable
install does): the copy is what every test, and every ``python -m cfg_distortion.cli`` the
tests start, imports; no PYTHONPATH. A baseline run of the unmutated copy (in the same pool, first
in the queue) must pass, or the results mean nothing (``"baseline"`` in the JSON line).
Then each worker applies its mutants one at a time, runs ``pytest -x`` on the default suite (the
mutant's own test files first, then, if they pass, the whole default suite; or ``--tests``), and
restores the file. Exit 0: survived; any failure, error or timeout: killed.

Prints progress on stderr and ONE JSON line on stdout:
{"mutants", "killed", "survived", "stale", "seconds", "survivors", "stale_names", "results"}.

Usage (from the repository root, with the project's venv; slow: run it with nice):
    nice python tests/mutation/run.py                 # every mutant x the default suite
    python tests/mutation/run.py -k sim_ --targeted   # some mutants, each on its own test files
    python tests/mutation/run.py --list               # names, files, whether the anchor is there
Not part of CI.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # relative to the repository root
    old: str  # the anchor: must occur exactly once
    new: str
    why: str  # the bug, in words
    tests: tuple = ()  # the test files that should catch it (for --targeted)
    regenerate: bool = False  # rebuild _generated.py and derivations/ from the mutated theory
    origin: str = "own"  # "issue-survivor", "issue-killed" or "own"


SIM = "numerics/finite_d/simulator.py"
M = Mutant
MUTANTS = [
    # ---- the eight that survived the suite of issue 18
    M("sim_weights_at_step_end", SIM,
      "m_post = post.moments(x, float(p.a(t)), float(p.Gamma(t, sigma2)))",
      "m_post = post.moments(x, float(p.a(s)), float(p.Gamma(s, sigma2)))",
      "guided centroid from the posterior weights at the end of the step instead of its start",
      ("tests/test_simulator_guided.py",), origin="issue-survivor"),
    M("sim_gamma_without_b2", SIM,
      "m_post = post.moments(x, float(p.a(t)), float(p.Gamma(t, sigma2)))",
      "m_post = post.moments(x, float(p.a(t)), float(p.a(t)) ** 2 * sigma2)",
      "posterior of the guided centroid with Gamma = a^2 sigma2 (b^2 dropped)",
      ("tests/test_simulator_guided.py",), origin="issue-survivor"),
    M("sim_half_omega_in_centroid", SIM,
      "C *= G.frozen_coef_post(w)\n        C += G.frozen_coef_target(w) * mu_c",
      "C *= G.frozen_coef_post(w / 2)\n        C += G.frozen_coef_target(w / 2) * mu_c",
      "guidance strength halved in the frozen centroid", ("tests/test_simulator_guided.py",), origin="issue-survivor"),
    M("cli_simulate_json_m_v_swapped", "numerics/cli/simulate.py",
      "emit_json(res.to_json())", "emit_json({**res.to_json(), 'm_mean': res.v_mean, 'v_mean': res.m_mean})",
      "simulate --json with m_mean and v_mean swapped", ("tests/test_json_contract.py",), origin="issue-survivor"),
    M("phase_first_switch_overwritten", "numerics/meanfield/phase.py",
      "res.t_switch[i] = tr.t_switch[0] if tr.t_switch", "res.t_switch[i] = tr.t_switch[-1] if tr.t_switch",
      "phase grid's first-switch time of a handed-on point taken from its last switch (a later one); "
      "the vectorised scheme itself never sees a second switch: none was found at constant omega",
      ("tests/test_rare_paths.py",), origin="issue-survivor"),
    M("frozen_derivatives_annealed", "numerics/model/rates.py",
      'for arr, fn in zip(out, G.WRONG_CLASS_RATE["frozen"]):', 'for arr, fn in zip(out[:1], G.WRONG_CLASS_RATE["frozen"][:1]):',
      "frozen-branch partial derivatives of phi dropped (the annealed ones used)", ("tests/test_rare_paths.py",),
      origin="issue-survivor"),
    M("frozen_kappa_annealed", "numerics/model/rates.py",
      "    return G.kappa_frozen(frozen_root(", "    return G.kappa_annealed(q, a, Gamma) + 0 * G.kappa_frozen(frozen_root(",
      "branch G keeps the annealed coefficient kappa where the wrong classes are frozen (issue 17 undone)",
      ("tests/test_frozen_g.py",)),
    M("filippov_weights_swapped", "numerics/meanfield/flow.py",
      "return lam * gm + (1 - lam) * cm, lam * gv + (1 - lam) * cv",
      "return (1 - lam) * gm + lam * cm, (1 - lam) * gv + lam * cv",
      "Filippov weights lambda and 1 - lambda swapped in the sliding drift", ("tests/test_rare_paths.py",),
      origin="issue-survivor"),
    M("finite_d_count_K", "numerics/finite_d/effective.py",
      "G.finite_d_alpha(float(K), float(d))", "G.finite_d_alpha(float(K) + 1.0, float(d))",
      "finite-d theory counts K wrong classes instead of K - 1", ("tests/test_rare_paths.py",),
      origin="issue-survivor"),
    # ---- the five that the suite of issue 18 already killed
    M("theory_ito_doubled", "theory/dmf.py",
      "ito = g2 * (d - 1) / d if", "ito = 2 * g2 * (d - 1) / d if",
      "Ito term of the v drift doubled (theory, regenerated)", ("tests/test_dmf.py",), regenerate=True,
      origin="issue-killed"),
    M("theory_branch_G_posterior_sign", "theory/dmf.py",
      "M = {b: k * val for b, val in X.items()}", "M = {b: -k * val for b, val in X.items()}",
      "sign of the branch-G posterior mean flipped (theory, regenerated)", ("tests/test_dmf.py",),
      regenerate=True, origin="issue-killed"),
    M("generated_drift_omega_flipped", "numerics/_generated.py",
      "def drift_Gk_sde_m(m, v, a, Gamma, f, g2, omega, kappa):\n",
      "def drift_Gk_sde_m(m, v, a, Gamma, f, g2, omega, kappa):\n    omega = -omega\n",
      "omega flipped in a generated drift (branch G's, with kappa: the one the solvers call since issue 17; "
      "drift_G_sde_m, the issue's original target, is now only caught by the freshness test)", ("tests/test_dmf.py",), origin="issue-killed"),
    M("frozen_branch_value_dropped", "numerics/model/rates.py",
      'for arr, fn in zip(out, G.WRONG_CLASS_RATE["frozen"]):', 'for arr, fn in zip(out[:0], G.WRONG_CLASS_RATE["frozen"]):',
      "frozen branch of phi dropped (the annealed value used everywhere)", ("tests/test_free_energy.py",),
      origin="issue-killed"),
    M("cli_grid_off_by_one", "numerics/model/params.py",
      "return np.linspace(start, stop, num)", "return np.linspace(start, stop, num + 1)",
      "phase-diagram --alpha/--omega START:STOP:NUM gives NUM + 1 points", ("tests/test_phase.py",),
      origin="issue-killed"),
    # ---- own: simulator
    M("sim_order2_extrapolates_to_step_end", SIM,
      "r = 0.5 * (_clock(p, sampler, s, sigma2) - clk)", "r = 1.0 * (_clock(p, sampler, s, sigma2) - clk)",
      "order-2 step extrapolates the posterior pull to the step's end instead of its clock midpoint",
      ("tests/test_simulator_guided.py", "tests/test_simulator.py")),
    M("sim_breakpoints_dropped", SIM,
      "extra = [b for b in breakpoints if 0.0 < b < T]", "extra = []",
      "schedule jump times not added to the simulator's time grid", ("tests/test_simulator.py",)),
    M("sim_noise_sd_is_variance", SIM,
      "x += math.sqrt(var) * rng.standard_normal((n, d))", "x += var * rng.standard_normal((n, d))",
      "SDE step adds noise with standard deviation var instead of sqrt(var)", ("tests/test_simulator.py",)),
    M("posterior_last_chunk_only", "numerics/finite_d/posterior.py",
      "            np.matmul(B[:, : d + 1].T, L, out=part)\n            acc += part\n        return acc\n\n    def _tile_sums32",
      "            np.matmul(B[:, : d + 1].T, L, out=part)\n            acc = part.copy()\n        return acc\n\n    def _tile_sums32",
      "chunked posterior keeps only the last chunk's partial sum", ("tests/test_simulator.py",)),
    M("sim_classified_threshold_sign", SIM,
      "- lse > -math.log(2.0)", "- lse > math.log(2.0)",
      "classified fraction with the threshold w_c > 2 instead of 1/2", ("tests/test_simulator.py",)),
    # ---- own: mean field, phase grid, finite-d theory
    M("dmf_never_slides", "numerics/meanfield/dmf.py",
      '        if hG >= 0 >= hC:\n            return "S"', '        if hG >= 0 >= hC:\n            return "C"',
      "per-point integrator never enters the Filippov sliding mode", ("tests/test_rare_paths.py",)),
    M("flow_margin_rate_v_sign", "numerics/meanfield/flow.py",
      "h_v = -p_q", "h_v = p_q",
      "margin rate with the wrong sign of dh/dv", ("tests/test_rare_paths.py",)),
    M("phase_crossing_coarse", "numerics/meanfield/phase.py",
      "_BISECTION = 48", "_BISECTION = 3",
      "phase grid locates a branch crossing to 1/8 of a step instead of 2^-48", ("tests/test_phase.py",)),
    M("finite_d_m_noise_undivided", "numerics/finite_d/effective.py",
      "m += math.sqrt(var / d) * rng.standard_normal(paths)", "m += math.sqrt(var) * rng.standard_normal(paths)",
      "finite-d theory: noise of m not divided by d", ("tests/test_finite_d.py",)),
    M("theory_start_variance_without_a2", "theory/transition.py",
      "    var_mu = sp.Integer(1)\n", "    var_mu = sp.Integer(0)\n",
      "start variance Gamma_T instead of Gamma_T + a_T^2 (theory, regenerated)", ("tests/test_dmf.py",),
      regenerate=True),
    M("theory_norm_rate_dropped", "theory/free_energy.py",
      "    return overlap_rate() + norm_rate()\n", "    return overlap_rate()\n",
      "wrong-class rate without the large deviation of the centroid norm, the classic mistake "
      "(theory, regenerated)", ("tests/test_free_energy.py",), regenerate=True),
    # ---- own: CLI and results
    M("trajectory_variance_ratio_times_sigma2", "numerics/meanfield/dmf.py",
      "return self.v_final / self.sigma2 if", "return self.v_final * self.sigma2 if",
      "trajectory variance_ratio = v_final * sigma2", ("tests/test_json_contract.py",)),
    M("cli_critical_json_wrong_process", "numerics/cli/critical.py",
      "res = api.alpha_c(args.t, args.sigma2, args.process)", "res = api.alpha_c(args.t, args.sigma2, 'ou')",
      "critical --t ignores --process", ("tests/test_json_contract.py",)),
    M("cli_phase_boundary_reversed", "numerics/api.py",
      '"boundary": [b.to_json() for b in self.boundary],', '"boundary": [b.to_json() for b in self.boundary[::-1]],',
      "phase-diagram --json boundary listed in reverse omega order", ("tests/test_json_contract.py",)),
    M("cli_finite_d_sampler_ignored", "numerics/cli/finite_d.py",
      "sampler=args.sampler, process=args.process, paths=args.paths",
      "sampler='sde', process=args.process, paths=args.paths",
      "finite-d --sampler ignored", ("tests/test_json_contract.py",)),
    M("schedule_linear_ends_swapped", "numerics/model/schedules.py",
      "return Schedule(spec, lambda t: w0 + (wT - w0) * t / T)", "return Schedule(spec, lambda t: wT + (w0 - wT) * t / T)",
      "linear:w_T,w_0 runs from w_0 at T to w_T at 0", ("tests/test_schedules.py",)),
]


# ---------------------------------------------------------------- workers

_FINDER = '''\
"""Maps cfg_distortion to a mutation copy (written by tests/mutation/run.py)."""
import sys
from importlib.util import spec_from_file_location
from pathlib import Path

MAPPING = {mapping!r}


class _Finder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname in MAPPING:
            root = Path(MAPPING[fullname])
            return spec_from_file_location(fullname, root / "__init__.py", submodule_search_locations=[str(root)])
        return None


def install():
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)
'''


def _repo_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                         capture_output=True).stdout.decode()
    return [f for f in out.split("\0") if f and (REPO / f).is_file() and not f.startswith("tests/mutation/")]


class Worker:
    """A copy of the repository with a bare venv that imports cfg_distortion from the copy."""

    def __init__(self, root: Path, files: list[str]):
        self.root, self.repo, venv = root, root / "repo", root / "venv"
        for f in files:
            dst = self.repo / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, dst)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        self.python = venv / "bin" / "python"
        site = Path(subprocess.run([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip())
        deps = sysconfig.get_paths()["purelib"]  # this interpreter's: numpy, scipy, sympy, pytest, ...
        mapping = {"cfg_distortion": str(self.repo / "numerics"), "cfg_distortion.theory": str(self.repo / "theory")}
        (site / "_cfg_mutation_finder.py").write_text(_FINDER.format(mapping=mapping))
        # .pth lines run in order: the dependencies' folder (plain path: its own .pth files, among them the
        # editable finder of the real checkout, are NOT processed), then our finder first on sys.meta_path
        (site / "_cfg_mutation.pth").write_text(f"{deps}\nimport _cfg_mutation_finder; _cfg_mutation_finder.install()\n")
        script = venv / "bin" / "cfg-distortion"  # the console script, for tests that run the command by name
        script.write_text(f"#!{self.python}\nimport sys\nfrom cfg_distortion.cli import main\nsys.exit(main())\n")
        script.chmod(0o755)

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.python.parent}{os.pathsep}{env.get('PATH', '')}"
        env["MPLBACKEND"] = "Agg"
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size and mtime second must not hit a stale .pyc
        return env

    def run(self, args: list[str], timeout: float) -> tuple[int, str]:
        try:
            p = subprocess.run([str(self.python), *args], cwd=self.repo, env=self.env(), capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return -9, "timeout"
        return p.returncode, (p.stdout + p.stderr)[-3000:]

    def check_import(self) -> str:
        rc, out = self.run(["-c", "import cfg_distortion, cfg_distortion.theory as t; print(cfg_distortion.__file__); "
                                  "print(t.__file__)"], 120)
        if rc != 0 or str(self.repo) not in out.split("\n")[0] or str(self.repo) not in out.split("\n")[1]:
            raise RuntimeError(f"the copy is not what imports: {out}")
        return out

    def regenerate(self, timeout: float) -> tuple[int, str]:
        rc, out = self.run(["-m", "cfg_distortion.theory.codegen"], timeout)
        if rc == 0:
            rc, out = self.run(["-m", "cfg_distortion.cli", "derive"], timeout)
        return rc, out


def anchor_count(m: Mutant) -> int:
    path = REPO / m.file
    return path.read_text().count(m.old) if path.is_file() else 0


def _pytest_args(tests: list[str], extra: list[str]) -> list[str]:
    return ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0", *extra, *tests]  # workers run in parallel


def run_mutant(w: Worker, m: Mutant, tests: list[str], extra: list[str], timeout: float) -> dict:
    path = w.repo / m.file
    original = path.read_text()
    saved = {}
    if m.regenerate:  # the files codegen and derive rewrite
        for rel in ["numerics/_generated.py"] + [str(p.relative_to(w.repo)) for p in (w.repo / "derivations").rglob("*")
                                                 if p.is_file()]:
            saved[rel] = (w.repo / rel).read_bytes()
    start = time.perf_counter()
    try:
        path.write_text(original.replace(m.old, m.new, 1))
        if m.regenerate:
            rc, out = w.regenerate(timeout)
            if rc != 0:
                return dict(name=m.name, status="killed", how="regeneration failed", seconds=time.perf_counter() - start,
                            tail=out[-400:])
        if not tests and m.tests:  # the default suite, the mutant's own test files first (they usually fail fast)
            rc, out = w.run(_pytest_args(list(m.tests), extra), timeout)
            if rc == 0:
                rc, out = w.run(_pytest_args([], extra), timeout)
        else:
            rc, out = w.run(_pytest_args(tests, extra), timeout)
    finally:
        path.write_text(original)
        if m.regenerate:
            for f in (w.repo / "derivations").rglob("*"):
                if f.is_file() and str(f.relative_to(w.repo)) not in saved:
                    f.unlink()
            for rel, data in saved.items():
                (w.repo / rel).parent.mkdir(parents=True, exist_ok=True)
                (w.repo / rel).write_bytes(data)
    seconds = time.perf_counter() - start
    if rc == 0:
        return dict(name=m.name, status="survived", seconds=seconds)
    if rc == 5:
        return dict(name=m.name, status="error", how="no tests collected", seconds=seconds)
    failed = [ln for ln in out.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    how = "timeout" if rc == -9 else (failed[0] if failed else f"exit {rc}")
    return dict(name=m.name, status="killed", how=how[:200], seconds=seconds)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="select", action="append", default=[],
                    help="run only mutants whose name contains this text (repeatable)")
    ap.add_argument("--tests", nargs="+", default=[], help="test files or node ids instead of the default suite")
    ap.add_argument("--targeted", action="store_true", help="each mutant on its own test files only (quick check)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per mutant run (default 1800)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run (not recommended)")
    ap.add_argument("--list", action="store_true", help="list the mutants and whether their anchor is present")
    ap.add_argument("--pytest-arg", action="append", default=[], help="extra argument for pytest (repeatable)")
    args = ap.parse_args(argv)

    chosen = [m for m in MUTANTS if not args.select or any(s in m.name for s in args.select)]
    if args.list:
        for m in chosen:
            n = anchor_count(m)
            print(f"{m.name:40s} {m.origin:15s} {m.file:36s} {'ok' if n == 1 else f'STALE ({n} matches)'}  {m.why}")
        return 0
    start = time.perf_counter()
    stale = [m for m in chosen if anchor_count(m) != 1]
    live = [m for m in chosen if anchor_count(m) == 1]
    results = [dict(name=m.name, status="stale", how=f"anchor found {anchor_count(m)} times in {m.file}")
               for m in stale]
    files = _repo_files()
    lock = threading.Lock()

    def log(msg):
        with lock:
            print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="cfg-mutation-") as tmp:
        jobs = max(1, min(args.jobs, len(live) or 1))
        workers = [Worker(Path(tmp) / f"w{i}", files) for i in range(jobs)]
        workers[0].check_import()
        baseline = {"status": "skipped"}
        queue = (["baseline"] if not args.no_baseline and live else []) + list(live)

        def work(w: Worker):
            while True:
                with lock:
                    if not queue:
                        return
                    m = queue.pop(0)
                if m == "baseline":  # the unmutated copy must pass, or no result means anything
                    tests = args.tests or (sorted({t for x in live for t in x.tests}) if args.targeted else [])
                    t0 = time.perf_counter()
                    rc, out = w.run(_pytest_args(tests, args.pytest_arg), args.timeout)
                    baseline.update(status="passed" if rc == 0 else "FAILED", seconds=round(time.perf_counter() - t0, 1))
                    tail = "" if rc == 0 else f"\n{out[-2000:]}"
                    log(f"baseline {baseline['status']} ({baseline['seconds']:.0f} s){tail}")
                    continue
                tests = args.tests or (list(m.tests) if args.targeted else [])
                r = run_mutant(w, m, tests, args.pytest_arg, args.timeout)
                log(f"{r['status']:8s} {m.name}  ({r['seconds']:.0f} s) {r.get('how', '')}")
                with lock:
                    results.append(r)

        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(work, workers))

    order = {m.name: i for i, m in enumerate(MUTANTS)}
    results.sort(key=lambda r: order[r["name"]])
    count = lambda s: sum(r["status"] == s for r in results)  # noqa: E731
    summary = {
        "mutants": len(results), "killed": count("killed"), "survived": count("survived"), "stale": count("stale"),
        "errors": count("error"), "seconds": round(time.perf_counter() - start, 1),
        "survivors": [r["name"] for r in results if r["status"] == "survived"],
        "stale_names": [r["name"] for r in results if r["status"] == "stale"],
        "tests": args.tests or ("targeted" if args.targeted else "default suite"), "baseline": baseline["status"],
        "results": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()} for r in results],
    }
    print(json.dumps(summary))
    return 0 if baseline["status"] != "FAILED" else 1


if __name__ == "__main__":
    sys.exit(main())
