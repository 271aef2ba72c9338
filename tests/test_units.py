"""Units users write: durations, rates, percentages, sizes."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsim.units import format_duration, parse_duration, parse_percent, parse_rate, parse_size


@pytest.mark.parametrize("text,seconds", [("250ms", 0.25), ("2s", 2.0), ("5m", 300.0), ("1h", 3600.0),
                                          ("1.5 s", 1.5), ("500us", 0.0005), (0, 0.0), ("1d", 86400.0)])
def test_durations_parse_to_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", [5, "5", "5 parsecs", "ms", True, None, [1], "nan s"])
def test_bad_durations_say_what_is_allowed(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_bare_number_duration_suggests_units():
    with pytest.raises(ValueError, match="'30s' or '30ms'"):
        parse_duration(30)


@pytest.mark.parametrize("text,rate", [("300/s", 300.0), ("18000/m", 300.0), ("3600/h", 1.0), (42, 42.0),
                                       ("7.5", 7.5), ("100 per s", 100.0)])
def test_rates_parse_per_second(text, rate):
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text,frac", [("0.1%", 0.001), ("50%", 0.5), (0.25, 0.25)])
def test_percentages_parse_to_fractions(text, frac):
    assert parse_percent(text) == pytest.approx(frac)


@pytest.mark.parametrize("text,size", [("2KB", 2000), ("1MiB", 1048576), (512, 512), ("10b", 10)])
def test_sizes_parse_to_bytes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["abc/s", "1e999/s"])
def test_bad_rates_refused(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_format_duration_round_trips(seconds):
    again = parse_duration(format_duration(seconds))
    assert math.isclose(again, seconds, rel_tol=1e-6)


def test_percentages_have_no_binary_noise():
    assert parse_percent("99.9%") == 0.999


def test_outputs_are_ordinary_files(tmp_path):
    import os
    import stat

    from latsim.atomic_write import atomic_write_text
    p = tmp_path / "x.json"
    atomic_write_text(p, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
