//! Cards inside PNG images, as the card sites and SillyTavern share them: the card's JSON,
//! base64-encoded, in a text chunk named `ccv3` (V3) or `chara` (V2).
//!
//! Reading prefers `ccv3` and falls back to `chara` (in `tEXt`, `zTXt` or `iTXt` chunks).
//! Writing re-encodes the avatar's pixels (palette and transparency kept; other metadata,
//! old card chunks and animation frames beyond the first are dropped) with both chunks:
//! `ccv3` for V3 readers and `chara` for older ones.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{CardSpec, CharacterCard};
use crate::{Error, Persona, Result};

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The text chunk keyword of a V3 card.
pub const CHUNK_V3: &str = "ccv3";
/// The text chunk keyword of a V2 card.
pub const CHUNK_V2: &str = "chara";
/// The most memory decoding one image may take (a 4096 x 4096 RGBA image is 64 MiB).
pub const MAX_DECODE_BYTES: usize = 64 * 1024 * 1024;

/// A card read from a PNG image.
#[derive(Debug, Clone)]
pub struct PngCard {
    /// The card.
    pub card: CharacterCard,
    /// The image without its card chunks: the character's avatar.
    pub avatar: Vec<u8>,
}

/// Reads the card (and the avatar) from a PNG image.
///
/// ```
/// use link_core::{Persona, PersonaKind};
/// use link_core::card::png;
/// let p = Persona::new("Ada", PersonaKind::Historical, "Mathematician.", "Good day!");
/// let image = png::write(&p, None).unwrap();
/// let read = png::read(&image).unwrap();
/// assert_eq!(read.card.spec, "chara_card_v3");
/// assert_eq!(read.card.to_persona().unwrap(), p);
/// ```
pub fn read(bytes: &[u8]) -> Result<PngCard> {
    let image = Image::decode(bytes)?;
    let json = card_text(&image.texts)?;
    let card = CharacterCard::from_json(&json)?;
    let avatar = image.encode(&[])?;
    Ok(PngCard { card, avatar })
}

/// `bytes` (a PNG image) re-encoded without its text chunks: an avatar to keep.
pub fn strip(bytes: &[u8]) -> Result<Vec<u8>> {
    Image::decode(bytes)?.encode(&[])
}

/// The persona's card as a PNG image: `avatar` (a PNG; a plain square drawn from the name when
/// there is none) with the V3 card in `ccv3` and the V2 card in `chara`.
pub fn write(persona: &Persona, avatar: Option<&[u8]>) -> Result<Vec<u8>> {
    let image = match avatar {
        Some(bytes) => Image::decode(bytes)?,
        None => Image::placeholder(&persona.name),
    };
    let chunks = [
        (
            CHUNK_V3,
            CharacterCard::from_persona_as(persona, CardSpec::V3),
        ),
        (
            CHUNK_V2,
            CharacterCard::from_persona_as(persona, CardSpec::V2),
        ),
    ]
    .map(|(keyword, card)| encode_card(&card).map(|text| (keyword, text)));
    let [v3, v2] = chunks;
    image.encode(&[v3?, v2?])
}

fn encode_card(card: &CharacterCard) -> Result<String> {
    let json = serde_json::to_vec(card)
        .map_err(|e| Error::invalid(format!("cannot serialise the card: {e}")))?;
    Ok(STANDARD.encode(json))
}

/// The card JSON from the text chunks: `ccv3` first, else `chara`.
fn card_text(texts: &[(String, String)]) -> Result<String> {
    let find = |keyword: &str| texts.iter().find(|(k, _)| k == keyword).map(|(_, t)| t);
    let text = find(CHUNK_V3).or_else(|| find(CHUNK_V2)).ok_or_else(|| {
        Error::invalid("the PNG image carries no character card (no ccv3 or chara text chunk)")
    })?;
    let compact: String = text.split_ascii_whitespace().collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|e| Error::invalid(format!("the card chunk is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Error::invalid("the card chunk is not UTF-8 JSON"))
}

/// A decoded image: enough to write it again.
struct Image {
    width: u32,
    height: u32,
    color: ::png::ColorType,
    depth: ::png::BitDepth,
    palette: Option<Vec<u8>>,
    trns: Option<Vec<u8>>,
    pixels: Vec<u8>,
    texts: Vec<(String, String)>,
}

impl Image {
    /// Decodes the first frame of a PNG and all its text chunks.
    fn decode(bytes: &[u8]) -> Result<Image> {
        let bad = |e: ::png::DecodingError| Error::invalid(format!("not a valid PNG image: {e}"));
        let limits = ::png::Limits {
            bytes: MAX_DECODE_BYTES,
        };
        let mut reader = ::png::Decoder::new_with_limits(Cursor::new(bytes), limits)
            .read_info()
            .map_err(bad)?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| Error::invalid("the PNG image is too large to decode"))?;
        let mut pixels = vec![0; size];
        let frame = reader.next_frame(&mut pixels).map_err(bad)?;
        pixels.truncate(frame.buffer_size());
        reader.finish().map_err(bad)?;
        let info = reader.info();
        Ok(Image {
            width: frame.width,
            height: frame.height,
            color: frame.color_type,
            depth: frame.bit_depth,
            palette: info.palette.as_ref().map(|p| p.to_vec()),
            trns: info.trns.as_ref().map(|t| t.to_vec()),
            pixels,
            texts: texts(info)?,
        })
    }

    /// A 256 x 256 square in a colour drawn from `name`.
    fn placeholder(name: &str) -> Image {
        let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let [r, g, b, _] = hash.to_le_bytes();
        let rgb = [r / 2 + 64, g / 2 + 64, b / 2 + 64];
        Image {
            width: 256,
            height: 256,
            color: ::png::ColorType::Rgb,
            depth: ::png::BitDepth::Eight,
            palette: None,
            trns: None,
            pixels: rgb.repeat(256 * 256),
            texts: Vec::new(),
        }
    }

    /// The image as a PNG with `chunks` as `tEXt` chunks.
    fn encode(&self, chunks: &[(&str, String)]) -> Result<Vec<u8>> {
        let bad = |e: ::png::EncodingError| Error::invalid(format!("cannot write the PNG: {e}"));
        let mut out = Vec::new();
        let mut encoder = ::png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(self.color);
        encoder.set_depth(self.depth);
        if let Some(palette) = &self.palette {
            encoder.set_palette(palette.clone());
        }
        if let Some(trns) = &self.trns {
            encoder.set_trns(trns.clone());
        }
        for (keyword, text) in chunks {
            encoder
                .add_text_chunk((*keyword).to_owned(), text.clone())
                .map_err(bad)?;
        }
        let mut writer = encoder.write_header().map_err(bad)?;
        writer.write_image_data(&self.pixels).map_err(bad)?;
        writer.finish().map_err(bad)?;
        Ok(out)
    }
}

/// Every text chunk of `info` as (keyword, text), whichever of the three kinds it is.
fn texts(info: &::png::Info<'_>) -> Result<Vec<(String, String)>> {
    let bad = |e: ::png::DecodingError| Error::invalid(format!("a PNG text chunk is invalid: {e}"));
    let mut texts: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|t| (t.keyword.clone(), t.text.clone()))
        .collect();
    for chunk in &info.compressed_latin1_text {
        texts.push((chunk.keyword.clone(), chunk.get_text().map_err(bad)?));
    }
    for chunk in &info.utf8_text {
        texts.push((chunk.keyword.clone(), chunk.get_text().map_err(bad)?));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PersonaKind;

    fn ada() -> Persona {
        Persona::new(
            "Ada",
            PersonaKind::Historical,
            "Mathematician.",
            "Good day!",
        )
    }

    #[test]
    fn a_written_card_carries_both_chunks_and_reads_back() {
        let image = write(&ada(), None).unwrap();
        let decoded = Image::decode(&image).unwrap();
        let keywords: Vec<&str> = decoded.texts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keywords, [CHUNK_V3, CHUNK_V2]);
        let v2 = card_text(&decoded.texts[1..]).unwrap();
        assert_eq!(
            CharacterCard::from_json(&v2).unwrap().spec,
            super::super::SPEC
        );
        assert_eq!(read(&image).unwrap().card.to_persona().unwrap(), ada());
    }

    #[test]
    fn the_avatar_is_kept_without_its_card_chunks() {
        let image = write(&ada(), None).unwrap();
        let read = read(&image).unwrap();
        let avatar = Image::decode(&read.avatar).unwrap();
        assert!(avatar.texts.is_empty());
        assert_eq!(avatar.pixels, Image::decode(&image).unwrap().pixels);
    }

    #[test]
    fn images_without_a_card_and_non_images_are_refused_clearly() {
        let plain = Image::placeholder("x").encode(&[]).unwrap();
        let err = read(&plain).unwrap_err().to_string();
        assert!(err.contains("no character card"), "{err}");
        let err = read(b"GIF89a").unwrap_err().to_string();
        assert!(err.contains("not a valid PNG"), "{err}");
        let bad = Image::placeholder("x")
            .encode(&[(CHUNK_V2, "***".to_owned())])
            .unwrap();
        assert!(read(&bad).unwrap_err().to_string().contains("base64"));
    }
}
