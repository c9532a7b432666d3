"""How compression changes what a network computes inside, layer by layer (SPEC section 11).

``similarity`` holds the pure math: linear CKA, its debiased form and SVCCA between two representations of
the same examples, in NumPy float64, no torch.  ``layers`` chooses which representations are compared and
captures them from a member; ``activation_max`` finds the images that excite a layer's units.
"""
