"""Several inputs: directories, per file or merged, in N processes."""
