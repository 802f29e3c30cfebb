"""``nncost.energy``: Horowitz's 45 nm table and the energy arithmetic, on hand values."""

from __future__ import annotations

import pytest

import nncost
from nncost.energy import HOROWITZ_2014, EnergyEstimate, mac_energy_pj


def test_table_values() -> None:
    pj = {key: entry.pj for key, entry in HOROWITZ_2014.items()}
    assert pj == {
        "int8_add": 0.03, "int32_add": 0.1, "int8_mult": 0.2, "int32_mult": 3.1,
        "fp16_add": 0.4, "fp32_add": 0.9, "fp16_mult": 1.1, "fp32_mult": 3.7,
        "sram_8KB": 10.0, "sram_32KB": 20.0, "sram_1MB": 100.0, "dram": 1300.0,
    }
    assert HOROWITZ_2014["dram"].pj_high == 2600.0
    assert all(e.pj == e.pj_high for k, e in HOROWITZ_2014.items() if k != "dram")
    assert {e.per for k, e in HOROWITZ_2014.items() if k.startswith(("sram", "dram"))} == {"64-bit access"}


@pytest.mark.parametrize(("dtype", "expected"), [("fp32", 4.6), ("fp16", 1.5), ("int32", 3.2), ("int8", 0.23)])
def test_mac_energy(dtype: str, expected: float) -> None:
    assert mac_energy_pj(dtype) == pytest.approx(expected)


def test_estimate_arithmetic() -> None:
    e = nncost.estimate_energy(1_000_000, 8_000, 80_000)
    assert isinstance(e, EnergyEstimate)
    assert e.arithmetic_pj == pytest.approx(4.6e6)
    assert e.sram_pj == pytest.approx(80_000 * 20 / 8)  # 2.5 pJ per byte from a 32 KB cache
    assert e.dram_pj == pytest.approx(8_000 * 162.5)  # 1.3 nJ per 8 bytes
    assert e.total_pj == pytest.approx(4.6e6 + 2e5 + 1.3e6)
    assert e.joules == pytest.approx(6.1e-6)
    assert e.breakdown == pytest.approx({"arithmetic": 4.6e6, "SRAM": 2e5, "DRAM": 1.3e6})
    high = nncost.estimate_energy(0, 8, dram="high", sram="1MB", dtype="int8")
    assert high.dram_pj == pytest.approx(2600) and high.sram_pj_per_byte == 12.5 and high.mac_pj == 0.23
    text = str(e)
    assert text.startswith("energy estimate (Horowitz 2014, 45 nm): 6.1 µJ")
    assert "1,000,000 MACs × 4.6 pJ (fp32)" in text and "(75.4%)" in text


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((-1, 0), {}, ValueError, "macs"),
        ((1, "8 MB"), {}, TypeError, "dram_bytes"),
        ((1, 1, -3), {}, ValueError, "sram_bytes"),
        ((1, 1), {"dtype": "int4"}, ValueError, "dtype: must be one of"),
        ((1, 1), {"sram": "64KB"}, ValueError, "sram: must be one of"),
        ((1, 1), {"dram": "typical"}, ValueError, "dram: must be 'low' or 'high'"),
    ],
)
def test_bad_arguments(args: tuple, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nncost.estimate_energy(*args, **kwargs)
