"""Pictify bindings: a template tied to a data source, rendered to one stable image URL
(definition.py: checks, CRUD, answers; refresh.py: fetching, rendering, serving, the job and
the cron sweep; mapping.py: JSON paths; cron expressions in pixhaven/cron.py)."""
