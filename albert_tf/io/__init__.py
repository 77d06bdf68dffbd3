"""What touches files and the process: atomic writes, refusing special files,
reading a user's file once, text-line files, and TensorFlow's start-up noise."""
