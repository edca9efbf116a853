"""SQL, one module per table. Everything goes through `env.DB` (D1 or its local emulation)."""
