"""Saliency (SPEC section 9, Schwaiger et al.): attribution maps through captum and how two models' maps
differ."""
