"""Saliency (SPEC section 9, Schwaiger et al.): attribution maps through captum and how two models' maps
differ."""

METHODS = ("gradient", "integrated_gradients", "grad_cam")  # saliency_maps' methods (validated in params)
