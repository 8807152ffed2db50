"""What backs what: every `verify` check names its route from the fixed set, and only checks on
independent routes are cited as backing in derivations/ and the README."""
import math
import re

import pytest

from cfg_distortion.checks.registry import INDEPENDENT, ROUTES, Check, routes, run_checks


def test_every_check_has_a_route_from_the_fixed_set():
    table = routes()
    assert len(table) >= 30
    assert set(table.values()) <= set(ROUTES)
    assert sum(r in INDEPENDENT for r in table.values()) > sum(r == "consistency" for r in table.values())


def test_consistency_checks_are_never_cited(repo):
    """A check that compares the code with itself is not named in derivations/ or the README,
    and every check a document does name is on an independent route."""
    table = routes()
    consistency = {name for name, r in table.items() if r == "consistency"}
    texts = {p.name: p.read_text() for p in (repo / "derivations").glob("*.md")}
    texts["README.md"] = (repo / "README.md").read_text()
    for fname, text in texts.items():
        named = set(re.findall(r"`([a-z][a-z0-9_.]+)`", text)) & set(table)
        assert not (named & consistency), (fname, named & consistency)


def test_verify_json_reports_route_and_backing():
    results = {c.name: c.to_json() for c in run_checks(names={"score_conditional_fd", "alpha_c_from_boundary_root"})}
    assert results["score_conditional_fd"]["route"] == "finite difference" and results["score_conditional_fd"]["backing"]
    assert results["alpha_c_from_boundary_root"]["route"] == "consistency"
    assert not results["alpha_c_from_boundary_root"]["backing"]


@pytest.mark.parametrize("rival,passes", [(None, True), (0.5, True), (0.05, False), (math.nan, True)])
def test_a_check_that_cannot_reject_its_rival_fails(rival, passes):
    """value 0.01 within 0.1 of 0: it passes only if the rival (what a wrong result would give)
    lies outside the tolerance."""
    c = Check("c", 0.01, 0.0, 0.1, route="exact log-sum-exp", rival=rival)
    assert c.passed is passes


def test_routes_outside_the_set_are_refused():
    from cfg_distortion.checks.registry import register

    with pytest.raises(ValueError, match="route must be one of"):
        register(lambda: None, route="trust me")
