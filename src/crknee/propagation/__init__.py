"""Background cosmic-ray propagation (paper eq. 1-4): solver, nuclear network, gas, losses."""
