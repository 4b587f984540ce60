"""Memory readings for the benchmarks (Linux /proc), shared by the scripts in bench/."""

from pathlib import Path


def _status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def high_water_kb():
    """This process's peak RSS (VmHWM; unlike ru_maxrss it is not inherited on exec)."""
    return _status_kb("VmHWM")


def resident_kb():
    """This process's current RSS (VmRSS)."""
    return _status_kb("VmRSS")
