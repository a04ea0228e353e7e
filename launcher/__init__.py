"""Starts the whole platform locally (`make run`) and the services the tests need."""
