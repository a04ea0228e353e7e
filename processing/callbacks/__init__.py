"""Merchant callbacks: the frozen event, signed delivery (Standard Webhooks), the
delivery log and re-sends."""
