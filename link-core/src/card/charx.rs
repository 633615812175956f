//! CharX import: a V3 card packed in a zip archive with its assets (RisuAI's format).
//!
//! The archive holds `card.json` (a V3 card) and the files its `assets` name with
//! `embeded://` URIs. Link takes the card and, when the main icon is a PNG, the avatar; other
//! assets stay listed in the card's `assets` (kept for export) but their files are not stored.

use std::io::{Cursor, Read};

use serde_json::Value;

use super::CharacterCard;
use crate::{Error, Result};

/// The largest file Link reads out of an archive (decompressed), against zip bombs.
pub const MAX_ENTRY_BYTES: u64 = 8 * 1024 * 1024;

/// A card read from a CharX archive.
#[derive(Debug, Clone)]
pub struct CharxCard {
    /// The card (`card.json`).
    pub card: CharacterCard,
    /// The main icon as a PNG without card chunks, when the archive has a PNG one.
    pub avatar: Option<Vec<u8>>,
}

/// Whether `bytes` look like a zip archive (a CharX file) rather than JSON or PNG.
pub fn is_charx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads `card.json` and the main PNG icon from a CharX archive.
pub fn read(bytes: &[u8]) -> Result<CharxCard> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::invalid(format!("not a CharX (zip) archive: {e}")))?;
    let json = entry(&mut archive, "card.json")?
        .ok_or_else(|| Error::invalid("the CharX archive has no card.json"))?;
    let json = String::from_utf8(json).map_err(|_| Error::invalid("card.json is not UTF-8"))?;
    let card = CharacterCard::from_json(&json)?;
    let avatar = match icon_path(&card) {
        Some(path) => entry(&mut archive, &path)?
            .map(|bytes| super::png::strip(&bytes))
            .transpose()?,
        None => None,
    };
    Ok(CharxCard { card, avatar })
}

/// The archive path of the card's main PNG icon, from its `assets`.
fn icon_path(card: &CharacterCard) -> Option<String> {
    let assets = card.data.other.get("assets")?.as_array()?;
    let is_png_icon = |a: &&Value| {
        a.get("type").and_then(Value::as_str) == Some("icon")
            && a.get("ext").and_then(Value::as_str) == Some("png")
    };
    let icons: Vec<&Value> = assets.iter().filter(is_png_icon).collect();
    let main = icons
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some("main"))
        .or(icons.first())?;
    let uri = main.get("uri")?.as_str()?;
    uri.strip_prefix("embeded://")
        .or_else(|| uri.strip_prefix("embedded://"))
        .map(str::to_owned)
}

/// The bytes of the file `name`, if the archive has it; refused past [`MAX_ENTRY_BYTES`].
fn entry(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Option<Vec<u8>>> {
    let bad = |e: &dyn std::fmt::Display| Error::invalid(format!("cannot read {name}: {e}"));
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(bad(&e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(&e))?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(Error::invalid(format!(
            "{name} is larger than {MAX_ENTRY_BYTES} bytes"
        )));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::card::{CardSpec, png};
    use crate::{Persona, PersonaKind};

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, bytes) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn the_card_and_its_main_icon_are_read() {
        let persona = Persona::new("Ada", PersonaKind::Historical, "Mathematician.", "Hello.");
        let mut card = CharacterCard::from_persona_as(&persona, CardSpec::V3);
        card.data.other.insert(
            "assets".into(),
            serde_json::json!([{"type": "icon", "uri": "embeded://assets/icon/main.png",
                                "name": "main", "ext": "png"}]),
        );
        let icon = png::write(&persona, None).unwrap();
        let json = serde_json::to_vec(&card).unwrap();
        let bytes = archive(&[("card.json", &json), ("assets/icon/main.png", &icon)]);
        assert!(is_charx(&bytes));
        let read = read(&bytes).unwrap();
        assert_eq!(read.card.to_persona().unwrap().name, "Ada");
        let avatar = read.avatar.unwrap();
        assert!(png::read(&avatar).is_err(), "the card chunks are stripped");
    }

    #[test]
    fn archives_without_a_card_are_refused() {
        let bytes = archive(&[("readme.txt", b"hi")]);
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("no card.json"), "{err}");
        assert!(read(b"PK\x03\x04junk").is_err());
    }
}
