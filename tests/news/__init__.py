"""Tests of news."""
