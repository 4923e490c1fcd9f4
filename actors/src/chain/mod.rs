//! The central platform of a chain and the shards a chain runs as.
