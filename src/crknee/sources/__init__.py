"""Point sources of cosmic rays (paper eq. 5-6): injection, Green's functions, sources."""
