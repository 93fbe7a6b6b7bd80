"""Time estimates from measured per-path rates: averaged over jobs, a band until a path is measured, stored safely."""

from __future__ import annotations

import pytest

from app.core.estimates import MeasuredRates, TimeEstimate, finish_megapixels, work_units
from app.core.memory_estimate import MemoryProfile, ModelShape
from app.core.request import KVCompressionMode
from app.core.sizes import HighResMethod, plan_size

XL = ModelShape(16, 72, 2, 28, (128, 256, 512, 512))
CUDA = MemoryProfile(XL, "cuda", 2, 2, 2, False)
CPU = MemoryProfile(XL, "cpu", 4, 4, 2, False)
AUTO = KVCompressionMode.AUTO
NATIVE = plan_size(1024, 1024, 1024)
REFINE = plan_size(3840, 2160, 1024, HighResMethod.REFINE)


def _measure(rates: MeasuredRates, plan, sampling_s: float, finish_s: float, profile=CUDA) -> MeasuredRates:
    units = work_units(profile, plan, 20, AUTO, 0.5)
    return rates.measured(profile, plan.path, sampling_s, units, finish_s, finish_megapixels(plan))


def test_nothing_measured_gives_no_time():
    """Before any image was made with this device and model there is no number to show."""
    assert MeasuredRates({}).estimate(CUDA, NATIVE, 20, AUTO, 0.5) is None
    measured_on_cpu = _measure(MeasuredRates({}), NATIVE, 30.0, 1.0, CPU)
    assert measured_on_cpu.estimate(CUDA, NATIVE, 20, AUTO, 0.5) is None


def test_a_measured_job_predicts_itself_including_decode_and_save():
    """After one job, the same job is estimated at its sampling plus its decode-and-save time."""
    rates = _measure(MeasuredRates({}), NATIVE, 4.0, 1.5)
    guess = rates.estimate(CUDA, NATIVE, 20, AUTO, 0.5)
    assert guess is not None and guess.measured
    assert guess.low_s == pytest.approx(5.5)
    assert rates.estimate(CUDA, NATIVE, 20, AUTO, 0.5, batch=3).low_s == pytest.approx(16.5)
    assert rates.estimate(CUDA, NATIVE, 10, AUTO, 0.5).low_s == pytest.approx(2.0 + 1.5)  # decode does not halve


def test_one_odd_job_does_not_take_over_the_estimate():
    """Five jobs at 5 s and one at 50 s: the estimate stays far nearer 5 s than 50 s."""
    rates = MeasuredRates({})
    for _ in range(5):
        rates = _measure(rates, NATIVE, 4.0, 1.0)
    rates = _measure(rates, NATIVE, 49.0, 1.0)
    assert rates.estimate(CUDA, NATIVE, 20, AUTO, 0.5).low_s < 15


def test_an_unmeasured_path_shows_a_band_until_it_is_measured():
    """Refine after only native jobs is a range around the native rate; after one refine job, one number."""
    rates = _measure(MeasuredRates({}), NATIVE, 4.0, 1.0)
    band = rates.estimate(CUDA, REFINE, 20, AUTO, 0.5)
    assert band is not None and not band.measured and band.low_s < band.high_s
    assert " – " in str(band)
    rates = _measure(rates, REFINE, 60.0, 10.0)
    exact = rates.estimate(CUDA, REFINE, 20, AUTO, 0.5)
    assert exact.measured and exact.low_s == pytest.approx(70.0)
    assert str(exact) == "≈ 1 min 10 s"


def test_a_print_job_is_estimated_with_its_resize_and_save():
    """An A3 300 DPI job that took 35 s, 29 of them decoding, resizing and saving 17 MP, is estimated at 35 s."""
    print_plan = plan_size(4960, 3508, 1024, HighResMethod.DIRECT)
    rates = _measure(MeasuredRates({}), print_plan, 6.0, 29.0)
    assert rates.estimate(CUDA, print_plan, 20, AUTO, 0.5).low_s == pytest.approx(35.0)
    # The same sampled size delivered at fewer pixels finishes sooner.
    smaller = plan_size(2480, 1754, 1024, HighResMethod.DIRECT)
    assert rates.estimate(CUDA, smaller, 20, AUTO, 0.5).low_s < 35.0


def test_rates_survive_the_settings_file_and_damaged_entries_are_dropped():
    """to_dict/from_dict round-trips; entries that are not three non-negative numbers are ignored."""
    rates = _measure(MeasuredRates({}), NATIVE, 4.0, 1.0)
    assert MeasuredRates.from_dict(rates.to_dict()) == rates
    damaged = {**rates.to_dict(), "x": [1, "a", 2], "y": [1.0, 2.0], "z": [True, 1.0, 1], 3: [1, 1, 1]}
    assert MeasuredRates.from_dict(damaged) == rates
    assert MeasuredRates.from_dict("not a dict") == MeasuredRates({})


def test_a_band_reads_as_a_range():
    """Format of measured and unmeasured estimates."""
    assert str(TimeEstimate(12.0, 12.0)) == "≈ 12 s"
    assert str(TimeEstimate(3.0, 12.0)) == "≈ 3.0 s – 12 s"


def test_small_memory_reads_in_mib_and_large_in_gib() -> None:
    """The size line never says '0.00 GiB' for a small image: under a hundredth of a GiB it counts MiB."""
    from app.core.memory_estimate import GIB, format_gib

    assert format_gib(5 * 2**20) == "5 MiB"
    assert format_gib(GIB // 4) == "0.25 GiB"
    assert format_gib(10 * GIB) == "10.0 GiB"
