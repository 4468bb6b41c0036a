"""Tests of appcenter."""
