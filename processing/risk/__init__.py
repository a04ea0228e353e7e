"""Risk: fraud rules, block lists and velocity."""
