//! The `rswarm` binary: the CLI, `rswarm daemon` and `rswarm playground`.

fn main() {}
