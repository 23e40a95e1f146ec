//! Integration tests: the service against moto's AWS emulator, started by the harness.

mod buckets;
mod client;
mod convert;
mod crash;
mod creates;
mod faults;
mod helpers;
mod layering;
mod moto;
mod ownership;
mod policies;
mod proxy;
mod real_aws;
mod reclaim;
mod reload;
mod resilience;
mod rollback;
mod server;
mod service;
mod throttling;
mod tokens;
mod user_delete;
mod users;
mod websites;
