"""Synthetic sales traffic in Russian, replayed from scripted conversations."""
