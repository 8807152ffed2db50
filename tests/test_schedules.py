"""The schedule grammar, as written in the issue."""
import numpy as np
import pytest

from cfg_distortion.model.schedules import as_schedule, parse_schedule


def test_piecewise_example_from_the_grammar():
    s = parse_schedule("piecewise:inf:3,1.2:-1,0.4:0")
    t = np.array([5.0, 1.2001, 1.2, 0.8, 0.4, 0.3, 0.0])
    np.testing.assert_array_equal(s(t), [3, 3, -1, -1, 0, 0, 0])
    assert s.breakpoints == (1.2, 0.4)


def test_piecewise_zero_above_first_time_and_last_value_below():
    s = parse_schedule("piecewise:2:3,1:-1")
    np.testing.assert_array_equal(s(np.array([3.0, 2.0, 1.5, 1.0, 0.5])), [0, 3, 3, -1, -1])


def test_interval_const_linear_and_callable():
    np.testing.assert_array_equal(parse_schedule("interval:2,0.5,1")(np.array([0.4, 0.5, 1.0, 1.1])), [0, 2, 2, 0])
    np.testing.assert_allclose(parse_schedule("linear:4,0", T=2.0)(np.array([2.0, 1.0, 0.0])), [4, 2, 0])
    assert float(parse_schedule("const:-0.5")(np.array(3.0))) == -0.5
    assert float(as_schedule(lambda t: 2 * t)(np.array(1.5))) == 3.0


@pytest.mark.parametrize("spec,word", [
    ("const:x", "not a number"), ("const:nan", "finite"), ("interval:1,2", "3 comma-separated"),
    ("interval:1,2,1", "t_lo < t_hi"), ("piecewise:1:2,3:4", "decreasing"), ("piecewise:1:2,inf:3", "decreasing"),
    ("piecewise:1-2", "t:w"), ("foo:1", "unknown kind"), ("nocolon", "KIND:VALUES"), ("linear:1", "2 comma"),
])
def test_malformed_specs_say_which_part(spec, word):
    with pytest.raises(ValueError, match=word):
        parse_schedule(spec)


def test_nonnegativity_is_detected():
    assert parse_schedule("piecewise:inf:3,1:0").nonnegative_on(10.0)
    assert not parse_schedule("piecewise:inf:3,1:-1,0.5:0").nonnegative_on(10.0)
    assert parse_schedule("piecewise:inf:1").breakpoints == ()  # inf is not a time to stop at
