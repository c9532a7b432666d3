"""What does a compressed network forget? The library behind the study's DVC stages (README, "Stage graph").

Every module is imported by name; this file holds nothing, so that importing one module imports no other."""
