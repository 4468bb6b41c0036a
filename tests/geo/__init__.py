"""Tests of geo."""
