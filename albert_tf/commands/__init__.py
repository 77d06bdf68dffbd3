"""Sub-commands of the `albert-tf` CLI, one module each with `register(subparsers)`.

Each command imports the project's modules inside its `run`: the parser of every
command is built when `albert-tf` starts, and `albert-tf predict` / `bench` run on
edge devices without TensorFlow, so building it must import nothing that needs it.
"""
