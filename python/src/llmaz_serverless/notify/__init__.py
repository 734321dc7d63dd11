"""Signed CloudEvents webhooks announcing finished async jobs."""
