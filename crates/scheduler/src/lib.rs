//! rswarm scheduler: pure task placement (filters, constraints, spread)
