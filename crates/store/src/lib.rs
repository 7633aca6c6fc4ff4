//! rswarm store: in-memory tables, transactions, versions, watch events, persistence behind a Proposer
