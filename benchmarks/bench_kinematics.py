"""Throughput of the kinematics kernels and of force-field modulation (2-core CI machine)."""

import time

import astropy.units as u
import numpy as np

from crknee.kinematics import convert_flux, from_momentum, momentum_from, nuclide
from crknee.modulation import modulate_table


def timeit(fn, n=20):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


nuc = nuclide("He4")
x = np.logspace(-1, 8, 100_000)
t = timeit(lambda: from_momentum(momentum_from(x, "Ekn", nuc.Z, nuc.A, nuc.mass_GeV), "R", nuc.Z, nuc.A, nuc.mass_GeV))
print(f"Ekn -> R, 1e5 energies (float kernel): {t * 1e3:.2f} ms")
e = np.logspace(-1, 8, 150) * u.GeV
f = e.value**-2.7 / (u.m**2 * u.s * u.sr * u.GeV)
t = timeit(lambda: convert_flux(e, f, "Ekn", "Etot", nuc), 200)
print(f"convert_flux Quantity front end, 150 energies: {t * 1e6:.0f} us")
t = timeit(lambda: modulate_table(e, f, nuc), 200)
print(f"modulate_table, 150 energies: {t * 1e6:.0f} us")
