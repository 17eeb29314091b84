"""Placeholder until the simulator fixture lands (helper-1 writes this file)."""
