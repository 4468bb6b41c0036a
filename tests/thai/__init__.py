"""Tests of thai."""
