"""Splinterpic's AI: the Workers AI model catalogue, generation through `env.AI`, and usage
and cost analytics."""
