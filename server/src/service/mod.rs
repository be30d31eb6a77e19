//! The domain: every operation of the contract, written once, as plain async
//! methods of [`Service`]. It takes validated values ([`types`]), answers the
//! contract's data or a [`ServiceError`], and knows nothing of HTTP: routes
//! call it, it calls the [`Store`], the CA and the mailer.
//!
//! Where a new operation goes: a step of the issuance site in
//! [`enrollment`] (before a certificate exists) or [`issuance`] (making and
//! handing out one; what a wrapped request's signers prove, and the renewal
//! rule, in [`signed_request`]); anything after issuance (revocation, CRL) in
//! [`revocation`], the OCSP responder in [`ocsp`], certificates made to order
//! by the administrator in [`factory`]; the Step 4 check in
//! [`confirmation`]; the test controls (clock, faults) in [`controls`], and
//! how a replica keeps them without a read per request in [`lease`].
//!
//! [`Store`]: crate::store::Store

mod confirmation;
mod controls;
mod enrollment;
mod error;
mod factory;
mod instance;
mod issuance;
mod lease;
mod name;
mod ocsp;
mod revocation;
mod signed_request;
pub mod types;

pub use confirmation::describe;
pub use enrollment::Authenticated;
pub use error::ServiceError;
pub use factory::{FactoryOrder, MadeCertificate};
pub use instance::{site_title, Parts, Policy, RootView, Service};
pub use issuance::{Begun, CertificateFile, CertificateFormat, Issuance, Pkcs12File, Ready};
pub use ocsp::{OcspFault, OCSP_VALIDITY};
pub use types::{
    AuthPassword, Email, OneTimeToken, Pin, Preparation, Reason, Serial, ServiceInstant, UserId,
};
