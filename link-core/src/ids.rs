//! Typed identifiers, so a message id can never be passed where a conversation id is meant.
//!
//! Ids are UUIDv7: unique without coordination and ordered by creation time, which keeps
//! database indexes compact and listings naturally sorted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Error;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| Error::invalid(concat!("malformed ", $what, " id")))
            }
        }
    };
}

id_type!(
    /// Identifies a conversation.
    ///
    /// ```
    /// use link_core::ConversationId;
    /// let id = ConversationId::new();
    /// let parsed: ConversationId = id.to_string().parse().unwrap();
    /// assert_eq!(id, parsed);
    /// assert!("not-a-uuid".parse::<ConversationId>().is_err());
    /// ```
    ConversationId,
    "conversation"
);
id_type!(
    /// Identifies one message of a conversation.
    MessageId,
    "message"
);

/// Identifies one request end to end: accepted from the caller (`x-request-id`) or generated,
/// and carried into the audit event and the trace span.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(String);

impl RequestId {
    /// Longest request id accepted from a caller.
    pub const MAX_LEN: usize = 128;

    /// A fresh random request id.
    pub fn generate() -> Self {
        Self(Uuid::new_v4().to_string())
    }

    /// Accepts a caller-supplied id if it is short and printable ASCII, else generates one.
    ///
    /// ```
    /// use link_core::RequestId;
    /// assert_eq!(RequestId::from_caller(Some("abc-123")).as_str(), "abc-123");
    /// assert_ne!(RequestId::from_caller(Some("bad\nid")).as_str(), "bad\nid");
    /// ```
    pub fn from_caller(value: Option<&str>) -> Self {
        match value {
            Some(v)
                if !v.is_empty()
                    && v.len() <= Self::MAX_LEN
                    && v.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Self(v.to_owned())
            }
            _ => Self::generate(),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
