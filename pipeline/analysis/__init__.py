"""What compression changes, from the populations' prediction tables: statistics (SPEC section 7), PIEs
(section 8) and attribute subgroups.  NumPy, SciPy and PyArrow only: no torch, so the fan-in stages start
in a fraction of a second and hold at ImageNet scale."""
