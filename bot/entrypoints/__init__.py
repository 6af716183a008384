"""Adapters that start the pipeline: CLI, web server, jobs, Action."""
