//! rswarm daemon: puts a node together (flags, data root, manager, agent, API listeners)
