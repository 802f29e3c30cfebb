"""Energy per operation and per memory access (Horowitz, ISSCC 2014), and an estimate for one inference.

M. Horowitz, "1.1 Computing's energy problem (and what we can do about it)", IEEE International
Solid-State Circuits Conference (ISSCC), Digest of Technical Papers, 2014, pp. 10–14,
doi:10.1109/ISSCC.2014.6757323. The table of that talk gives rough energies for a 45 nm process at 0.9 V:

==========================  ==========  =====================================
operation                   energy      note
==========================  ==========  =====================================
8-bit integer add           0.03 pJ
32-bit integer add          0.1 pJ
8-bit integer multiply      0.2 pJ
32-bit integer multiply     3.1 pJ
16-bit float add            0.4 pJ
32-bit float add            0.9 pJ
16-bit float multiply       1.1 pJ
32-bit float multiply       3.7 pJ
SRAM (cache) read, 8 KB     10 pJ       per 64-bit access
SRAM (cache) read, 32 KB    20 pJ       per 64-bit access
SRAM (cache) read, 1 MB     100 pJ      per 64-bit access
DRAM read                   1.3–2.6 nJ  per 64-bit access
==========================  ==========  =====================================

The table has no 16-bit integer or 8-bit float entries, and nncost does not invent them. Other
processes (7 nm, 5 nm) are cheaper per operation, but the *ratio* the table teaches survives: reading a
value from DRAM costs hundreds to thousands of times more than a multiply-add on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["HOROWITZ_2014", "EnergyEntry", "EnergyEstimate", "estimate_energy", "mac_energy_pj"]


@dataclass(frozen=True)
class EnergyEntry:
    """One row of the table: an ``operation``, its ``bits``, its energy in picojoules (``pj``, the low end
    of a range), ``pj_high`` (the high end; equal to ``pj`` for a single value) and what it is ``per``."""

    operation: str
    bits: int
    pj: float
    pj_high: float
    per: str = "operation"


#: Horowitz (ISSCC 2014), 45 nm, 0.9 V: energy per operation or per 64-bit memory access, in picojoules,
#: keyed by name. DRAM is a range (1.3–2.6 nJ per 64-bit access): ``pj`` is the low end, ``pj_high`` the high.
HOROWITZ_2014: dict[str, EnergyEntry] = {
    "int8_add": EnergyEntry("integer add", 8, 0.03, 0.03),
    "int32_add": EnergyEntry("integer add", 32, 0.1, 0.1),
    "int8_mult": EnergyEntry("integer multiply", 8, 0.2, 0.2),
    "int32_mult": EnergyEntry("integer multiply", 32, 3.1, 3.1),
    "fp16_add": EnergyEntry("float add", 16, 0.4, 0.4),
    "fp32_add": EnergyEntry("float add", 32, 0.9, 0.9),
    "fp16_mult": EnergyEntry("float multiply", 16, 1.1, 1.1),
    "fp32_mult": EnergyEntry("float multiply", 32, 3.7, 3.7),
    "sram_8KB": EnergyEntry("SRAM read, 8 KB", 64, 10.0, 10.0, "64-bit access"),
    "sram_32KB": EnergyEntry("SRAM read, 32 KB", 64, 20.0, 20.0, "64-bit access"),
    "sram_1MB": EnergyEntry("SRAM read, 1 MB", 64, 100.0, 100.0, "64-bit access"),
    "dram": EnergyEntry("DRAM read", 64, 1300.0, 2600.0, "64-bit access"),
}

_DTYPES = ("fp32", "fp16", "int32", "int8")
_SRAMS = ("8KB", "32KB", "1MB")


def mac_energy_pj(dtype: str = "fp32") -> float:
    """Energy of one multiply-accumulate in ``dtype``: one multiply plus one add at the same width (pJ).

    fp32: 3.7 + 0.9 = 4.6 pJ; fp16: 1.1 + 0.4 = 1.5 pJ; int32: 3.1 + 0.1 = 3.2 pJ; int8: 0.2 + 0.03 = 0.23 pJ.
    (An int8 MAC usually accumulates in 32 bits, which would make its add 0.1 pJ: 0.3 pJ. The estimate keeps
    both at the operands' width, as the table's rows are given.)
    """
    if dtype not in _DTYPES:
        raise ValueError(f"dtype: must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    return HOROWITZ_2014[f"{dtype}_mult"].pj + HOROWITZ_2014[f"{dtype}_add"].pj


def _count(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: must be a number >= 0, got {type(value).__name__} {value!r}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name}: must be a finite number >= 0, got {value!r}")
    return value


@dataclass(frozen=True)
class EnergyEstimate:
    """:func:`estimate_energy`'s result: the energy of each part, in picojoules, and the assumptions."""

    macs: float
    dram_bytes: float
    sram_bytes: float
    dtype: str
    sram: str
    dram: str
    mac_pj: float
    sram_pj_per_byte: float
    dram_pj_per_byte: float

    @property
    def arithmetic_pj(self) -> float:
        """``macs × mac_pj``."""
        return self.macs * self.mac_pj

    @property
    def sram_pj(self) -> float:
        """``sram_bytes × sram_pj_per_byte``."""
        return self.sram_bytes * self.sram_pj_per_byte

    @property
    def dram_pj(self) -> float:
        """``dram_bytes × dram_pj_per_byte``."""
        return self.dram_bytes * self.dram_pj_per_byte

    @property
    def total_pj(self) -> float:
        """Arithmetic + SRAM + DRAM, in picojoules."""
        return self.arithmetic_pj + self.sram_pj + self.dram_pj

    @property
    def joules(self) -> float:
        """The total in joules (1 pJ = 10^-12 J)."""
        return self.total_pj * 1e-12

    @property
    def breakdown(self) -> dict[str, float]:
        """``{"arithmetic": pJ, "SRAM": pJ, "DRAM": pJ}``."""
        return {"arithmetic": self.arithmetic_pj, "SRAM": self.sram_pj, "DRAM": self.dram_pj}

    def __str__(self) -> str:
        total = self.total_pj
        lines = [
            f"energy estimate (Horowitz 2014, 45 nm): {total * 1e-6:,.1f} µJ = {self.joules * 1e3:.4g} mJ",
            f"  arithmetic: {self.macs:,.0f} MACs × {self.mac_pj:.3g} pJ ({self.dtype}) = "
            f"{self.arithmetic_pj * 1e-6:,.1f} µJ ({self.arithmetic_pj / total:.1%})",
            f"  SRAM:       {self.sram_bytes:,.0f} B × {self.sram_pj_per_byte:.3g} pJ/B ({self.sram} cache) = "
            f"{self.sram_pj * 1e-6:,.1f} µJ ({self.sram_pj / total:.1%})",
            f"  DRAM:       {self.dram_bytes:,.0f} B × {self.dram_pj_per_byte:.4g} pJ/B ({self.dram} end) = "
            f"{self.dram_pj * 1e-6:,.1f} µJ ({self.dram_pj / total:.1%})",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def estimate_energy(
    macs: float,
    dram_bytes: float,
    sram_bytes: float = 0,
    *,
    dtype: str = "fp32",
    sram: str = "32KB",
    dram: str = "low",
) -> EnergyEstimate:
    """A rough energy estimate from counts: ``macs × E_MAC + sram_bytes × E_SRAM + dram_bytes × E_DRAM``.

    Assumptions (state them with the number):

    - 45 nm, 0.9 V: Horowitz's table (:data:`HOROWITZ_2014`); a modern process is cheaper per operation.
    - One MAC = one multiply + one add in ``dtype`` ("fp32", "fp16", "int32", "int8"; :func:`mac_energy_pj`).
    - Every byte counted in ``dram_bytes`` is one DRAM access (a 64-bit access moves 8 bytes, so a byte costs
      1/8 of it: 162.5 pJ at the low end, 325 pJ at the high end, ``dram="low"`` or ``"high"``); likewise
      ``sram_bytes`` read from a cache of size ``sram`` ("8KB", "32KB", "1MB"; 1/8 of the 64-bit access).
    - Only data movement and arithmetic: no instruction fetch, control, clock or leakage, which on a real
      processor often cost more than the arithmetic itself.
    """
    macs = _count("macs", macs)
    dram_bytes = _count("dram_bytes", dram_bytes)
    sram_bytes = _count("sram_bytes", sram_bytes)
    mac_pj = mac_energy_pj(dtype)
    if sram not in _SRAMS:
        raise ValueError(f"sram: must be one of {', '.join(_SRAMS)}, got {sram!r}")
    if dram not in ("low", "high"):
        raise ValueError(f"dram: must be 'low' or 'high' (the table's 1.3–2.6 nJ range), got {dram!r}")
    entry = HOROWITZ_2014["dram"]
    dram_access = entry.pj if dram == "low" else entry.pj_high
    return EnergyEstimate(
        macs=macs,
        dram_bytes=dram_bytes,
        sram_bytes=sram_bytes,
        dtype=dtype,
        sram=sram,
        dram=dram,
        mac_pj=mac_pj,
        sram_pj_per_byte=HOROWITZ_2014[f"sram_{sram}"].pj / 8,
        dram_pj_per_byte=dram_access / 8,
    )
