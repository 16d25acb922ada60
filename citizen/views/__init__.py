"""Thin views: load input, call one service, render; the edge commits."""
