"""Pydantic models: the request and response schemas of every dialect."""
