//! Test and benchmark support, not part of the service: synthetic messages ([`synth`]) and bulk
//! seeding of a store ([`seed`]). Compiled only for the crate's own unit tests and with the
//! cargo feature `testkit`, which the integration tests, benches and examples enable through the
//! package's dev-dependency on itself (Cargo.toml); `cargo build --release` leaves it out.

pub mod seed;
pub mod synth;
