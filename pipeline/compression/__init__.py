"""Compression of dense members: pruning (scores -> threshold -> masks) and simulated quantization."""
