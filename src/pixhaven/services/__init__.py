"""Logic shared by the dialect routers and the CLI."""
