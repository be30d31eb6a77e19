//! The few CMC structures (RFC 5272, "Certificate Management over CMS") a
//! request can arrive in: a `PKIData` whose `reqSequence` holds a PKCS#10 in a
//! `TaggedCertificationRequest`, as Windows' `CR_IN_CMC` sends it. No published
//! crate defines them, so they are written here with `der`'s derive; only what
//! the CA reads is typed, the rest stays `Any`.
//!
//! ```text
//! PKIData ::= SEQUENCE {
//!     controlSequence    SEQUENCE SIZE(0..MAX) OF TaggedAttribute,
//!     reqSequence        SEQUENCE SIZE(0..MAX) OF TaggedRequest,
//!     cmsSequence        SEQUENCE SIZE(0..MAX) OF TaggedContentInfo,
//!     otherMsgSequence   SEQUENCE SIZE(0..MAX) OF OtherMsg }
//! TaggedRequest ::= CHOICE {
//!     tcr  [0] TaggedCertificationRequest,
//!     crm  [1] CertReqMsg,
//!     orm  [2] SEQUENCE { ... } }                   -- IMPLICIT TAGS
//! TaggedCertificationRequest ::= SEQUENCE {
//!     bodyPartID            BodyPartID,             -- INTEGER (0..4294967295)
//!     certificationRequest  CertificationRequest }  -- PKCS#10
//! ```

use der::asn1::ObjectIdentifier;
use der::{Any, Decode, Encode, Sequence, Tag, TagNumber, Tagged};

/// `id-cct-PKIData`: the eContentType of a CMC full request.
pub const ID_CCT_PKI_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.12.2");

/// A CMC `PKIData`, its members undecoded.
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct PkiData {
    /// `controlSequence`: the controls (none of which this CA acts on).
    pub control_sequence: Vec<Any>,
    /// `reqSequence`: the `TaggedRequest`s.
    pub req_sequence: Vec<Any>,
    /// `cmsSequence`.
    pub cms_sequence: Vec<Any>,
    /// `otherMsgSequence`.
    pub other_msg_sequence: Vec<Any>,
}

/// The body of a `tcr` `TaggedRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct TaggedCertificationRequest {
    /// `bodyPartID`.
    pub body_part_id: u32,
    /// The PKCS#10 `CertificationRequest`, as it was encoded.
    pub certification_request: Any,
}

/// What one `TaggedRequest` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaggedRequest {
    /// `tcr`: a PKCS#10, its DER.
    Pkcs10 {
        /// `bodyPartID`.
        body_part_id: u32,
        /// The request, DER.
        der: Vec<u8>,
    },
    /// `crm`: a CRMF `CertReqMsg` (RFC 4211).
    Crmf,
    /// `orm`: some other request format.
    Other,
}

impl TaggedRequest {
    /// One member of `reqSequence`, by its `[n]` tag.
    pub fn from_any(any: &Any) -> der::Result<Self> {
        let context = |n: u8| Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::new(n),
        };
        let tag = any.tag();
        if tag == context(0) {
            // IMPLICIT [0]: the SEQUENCE's content under another tag.
            let body = Any::new(Tag::Sequence, any.value())?;
            let tcr = TaggedCertificationRequest::from_der(&body.to_der()?)?;
            return Ok(TaggedRequest::Pkcs10 {
                body_part_id: tcr.body_part_id,
                der: tcr.certification_request.to_der()?,
            });
        }
        if tag == context(1) {
            return Ok(TaggedRequest::Crmf);
        }
        if tag == context(2) {
            return Ok(TaggedRequest::Other);
        }
        Err(tag.unexpected_error(Some(context(0))))
    }
}
