"""How compression changes what a network computes inside, layer by layer (SPEC section 11).

``similarity`` holds the pure math: linear CKA, its debiased form and SVCCA between two representations of
the same examples, in NumPy float64.  No torch here: capturing the activations is the caller's business.
"""
