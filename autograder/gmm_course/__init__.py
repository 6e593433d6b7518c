"""Instructor tooling for the GMM course: build the release, validate, autograde, report."""
