//! Pages of a listing: a limit and an opaque cursor, so a user with thousands of
//! conversations is read a page at a time.

use crate::{Error, Result};

/// The page size when the caller names none.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: usize = 200;

/// Where a page starts: a store's own encoding of the last item of the previous page. Opaque
/// to callers; a store refuses a cursor it did not make with an invalid request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor from its text, as a client sent it back.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text to hand to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The error for a cursor a store cannot read.
    pub fn invalid() -> Error {
        Error::invalid("the cursor is not one this server returned")
    }
}

/// Which page to read.
///
/// ```
/// use link_core::PageRequest;
/// assert_eq!(PageRequest::default().limit, 50);
/// assert_eq!(PageRequest::first(1_000).limit, 200);
/// assert_eq!(PageRequest::first(0).limit, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items, between 1 and [`MAX_PAGE_SIZE`].
    pub limit: usize,
    /// Start after this cursor; `None` starts at the beginning.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of (at most) `limit` items, clamped to 1..=[`MAX_PAGE_SIZE`].
    pub fn first(limit: usize) -> Self {
        Self {
            limit: limit.clamp(1, MAX_PAGE_SIZE),
            after: None,
        }
    }

    /// The page after `cursor`.
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.after = cursor;
        self
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(DEFAULT_PAGE_SIZE)
    }
}

/// One page of items and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// The cursor of the next page, if there are more items.
    pub next: Option<Cursor>,
}

/// Reads a listing's cursor `"<unix nanos>.<id>"`, the encoding both built-in stores use for
/// a position in "newest first, ties by id" order.
pub fn decode_position<I: std::str::FromStr>(cursor: &Cursor) -> Result<(i128, I)> {
    let (nanos, id) = cursor
        .as_str()
        .split_once('.')
        .ok_or_else(Cursor::invalid)?;
    let nanos = nanos.parse().map_err(|_| Cursor::invalid())?;
    let id = id.parse().map_err(|_| Cursor::invalid())?;
    Ok((nanos, id))
}

/// The cursor for the position (`nanos`, `id`), read back by [`decode_position`].
pub fn encode_position(nanos: i128, id: impl std::fmt::Display) -> Cursor {
    Cursor(format!("{nanos}.{id}"))
}
