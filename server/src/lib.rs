//! webra2-mock: a mock of the webra2 client-certificate issuance site.
//!
//! A request reads route → service → store and back: [`http`] holds the
//! routing tables of the three listeners (the public issuance site, the admin
//! API, the Step 4 confirmation page over mutual TLS, whose TLS is
//! [`confirm`]); [`service`] is the domain, every operation of the contract
//! once; [`store`] keeps the records. [`Application`] binds and wires them;
//! `main.rs` only reads the configuration and calls it. Faults, metrics and
//! mail keep their core at the top ([`faults`], [`metrics`], [`smtp`]) and
//! their HTTP side in `http/`.

// No panic on anything from outside the process: held by the compiler in
// the server's own code (tests may unwrap). The few exceptions say why.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod app;
pub mod clock;
pub mod config;
pub mod confirm;
pub mod faults;
pub mod http;
pub mod listener;
pub mod mail;
pub mod metrics;
mod mock;
pub mod secrets;
pub mod service;
pub mod smtp;
mod state;
pub mod store;

pub use app::Application;
pub use clock::Clock;
pub use config::{RootSource, Settings};
pub use mock::{AdminClient, MockCa, MockCaBuilder, MockError};
pub use state::{AppState, SharedState};
