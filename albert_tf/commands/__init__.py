"""Sub-commands of the `albert-tf` CLI, one module each with `register(subparsers)`."""
