//! A character's picture: a PNG image kept with its conversation, taken from an imported card
//! (or uploaded by the owner), served to the page, and written back into exported PNG cards.

use crate::card::png;
use crate::{Error, Result};

/// The largest avatar Link keeps, in bytes of PNG (after text chunks are stripped). Card
/// images are commonly 200 KB to 2 MB; the bound keeps an avatar inside one DynamoDB
/// transaction (4 MB) and a page's image comfortably small.
pub const MAX_AVATAR_BYTES: usize = 3 * 1024 * 1024;

/// A PNG image of at most [`MAX_AVATAR_BYTES`].
///
/// ```
/// use link_core::Avatar;
/// use link_core::card::png;
/// use link_core::{Persona, PersonaKind};
/// let card = png::write(&Persona::new("Ada", PersonaKind::Historical, "x", "Hi"), None).unwrap();
/// let avatar = Avatar::from_image(&card).unwrap();
/// assert!(png::read(avatar.as_bytes()).is_err(), "the card chunks are gone");
/// assert!(Avatar::new(b"GIF89a".to_vec()).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Avatar(Vec<u8>);

impl Avatar {
    /// Bytes a store kept (or made by [`from_image`](Self::from_image)): checked for the PNG
    /// signature and the size bound, not decoded.
    pub fn new(png: Vec<u8>) -> Result<Self> {
        if !png.starts_with(png::SIGNATURE) {
            return Err(Error::invalid("an avatar must be a PNG image"));
        }
        if png.len() > MAX_AVATAR_BYTES {
            return Err(Error::invalid(format!(
                "the avatar is {} bytes; Link keeps avatars of at most {MAX_AVATAR_BYTES} bytes \
                 (3 MiB) of PNG",
                png.len()
            )));
        }
        Ok(Self(png))
    }

    /// An image from outside (a card, an upload): decoded, and re-encoded without its text
    /// chunks (card data, comments, metadata), so only pixels are kept.
    pub fn from_image(bytes: &[u8]) -> Result<Self> {
        Self::new(png::strip(bytes)?)
    }

    /// The PNG bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The PNG bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a valid avatar (a PNG has a signature); here for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Avatar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Avatar({} bytes of PNG)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_and_the_signature_are_checked() {
        let mut big = png::SIGNATURE.to_vec();
        big.resize(MAX_AVATAR_BYTES, 0);
        assert!(Avatar::new(big.clone()).is_ok());
        big.push(0);
        let err = Avatar::new(big).unwrap_err().to_string();
        assert!(err.contains("3145729 bytes"), "{err}");
        assert!(Avatar::new(Vec::new()).is_err());
    }

    #[test]
    fn debug_shows_the_size_not_the_bytes() {
        let avatar = Avatar::new(png::SIGNATURE.to_vec()).unwrap();
        assert_eq!(format!("{avatar:?}"), "Avatar(8 bytes of PNG)");
    }
}
