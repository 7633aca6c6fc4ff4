//! rswarm CLI: docker-style swarm, node and service commands over the Engine API
