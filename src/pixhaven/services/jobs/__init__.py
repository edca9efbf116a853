"""Work that must eventually happen: durable jobs (a D1 row, woken by the queue), the registry
of job kinds (kinds.py imports every module that defines one), and webhook deliveries."""
