"""Robustness under corruption (SPEC section 10): the corruption suite."""
