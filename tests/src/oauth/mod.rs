//! The issuer: authorize (auto-approve), token (code, refresh, API-key exchange), revoke, and the
//! device-code endpoints, each checking its input as strictly as the real server does (or more).

mod authorize;
mod common;
mod device;
mod revoke;
mod routes;
mod token;

pub(crate) use device::approve_device;
pub(crate) use routes::routes;
