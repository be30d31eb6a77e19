//! webra2-mock: a mock of the webra2 client-certificate issuance site.
//!
//! Three listeners share one [`AppState`]: the public issuance site
//! ([`http::public_router`]), the admin API ([`http::admin_router`]) and the Step 4
//! confirmation page over mutual TLS ([`confirm`]). [`Application`] binds and
//! wires them; `main.rs` only reads the configuration and calls it.

mod app;
pub mod clock;
pub mod config;
pub mod confirm;
pub mod faults;
pub mod http;
pub mod mail;
pub mod metrics;
mod mock;
pub mod secrets;
pub mod smtp;
mod state;
pub mod store;

pub use app::Application;
pub use clock::Clock;
pub use config::{RootSource, Settings};
pub use mock::{AdminClient, MockCa, MockCaBuilder, MockError};
pub use state::{AppState, SharedState};
