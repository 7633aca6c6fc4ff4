//! rswarm PKI: root CA, node certificates, join tokens
