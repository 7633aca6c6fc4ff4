//! rswarm agent: node session, task managers, status reports
