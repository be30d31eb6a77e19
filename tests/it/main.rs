//! End-to-end tests: each test starts its own mock CA in-process on free ports
//! with an in-memory store (or a temp SQLite file), and drives it over HTTP,
//! with the client library, or as subprocesses.

mod bad_input;
mod client_e2e;
mod client_status;
mod client_wiremock;
mod compose_replicas;
mod factory;
mod first_hour;
mod harness;
mod helpers;
mod layering;
mod lifecycle;
mod ocsp;
mod openapi;
mod pkcs12_forms;
mod protocol_versions;
mod random_input;
mod redact;
mod replicas;
mod request_formats;
mod server_flow;
mod site_pages;
mod slow_clients;
mod store_rules;
mod subprocess;
mod transcripts;
mod user_crate;
