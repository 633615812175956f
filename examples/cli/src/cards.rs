//! Character card files: `link export` and `/export` write them in one of three formats.

use std::path::{Path, PathBuf};

use link::card::{CardSpec, png};
use link::{CharacterCard, Error, Persona, Result};

use crate::backend::Backend;

/// The format of a card file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Character Card V2 JSON.
    V2,
    /// Character Card V3 JSON.
    V3,
    /// A PNG card image with the V3 and V2 cards.
    Png,
}

impl Format {
    /// The format `--png` / `--v3` ask for (V2 JSON without either).
    pub fn from_flags(png: bool, v3: bool) -> Self {
        match (png, v3) {
            (true, _) => Format::Png,
            (false, true) => Format::V3,
            (false, false) => Format::V2,
        }
    }

    /// The format a file name asks for: PNG for `.png`, V2 JSON otherwise.
    pub fn of_path(path: &Path) -> Self {
        let png = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("png"));
        Self::from_flags(png, false)
    }
}

/// `Sherlock_Holmes.json` or `.png`, in the current directory.
pub fn default_path(persona: &Persona, format: Format) -> PathBuf {
    let stem: String = persona
        .name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let ext = if format == Format::Png { "png" } else { "json" };
    PathBuf::from(format!("{stem}.{ext}"))
}

/// The card file's bytes for `persona`; a PNG card shows `avatar` (a plain square without).
pub fn bytes(persona: &Persona, format: Format, avatar: Option<&[u8]>) -> Result<Vec<u8>> {
    let json = |spec| {
        let card = CharacterCard::from_persona_as(persona, spec);
        serde_json::to_vec_pretty(&card)
            .map(|mut json| {
                json.push(b'\n');
                json
            })
            .map_err(|e| Error::invalid(format!("cannot write the card: {e}")))
    };
    match format {
        Format::V2 => json(CardSpec::V2),
        Format::V3 => json(CardSpec::V3),
        Format::Png => png::write(persona, avatar),
    }
}

/// Writes the card file of conversation `id`, whose character is `persona`, to `path`: a PNG
/// card shows the conversation's avatar, asked of `backend` (JSON cards have no picture).
pub async fn export(
    backend: &dyn Backend,
    id: &str,
    persona: &Persona,
    format: Format,
    path: &Path,
) -> Result<()> {
    let avatar = match format {
        Format::Png => backend.avatar(id).await?,
        Format::V2 | Format::V3 => None,
    };
    write(persona, format, avatar.as_deref(), path)
}

/// Writes the card file for `persona` (and its `avatar`, in a PNG) to `path`.
fn write(persona: &Persona, format: Format, avatar: Option<&[u8]>, path: &Path) -> Result<()> {
    std::fs::write(path, bytes(persona, format, avatar)?)
        .map_err(|e| Error::invalid(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use link::PersonaKind;

    #[test]
    fn every_format_reads_back() {
        let ada = Persona::new("Ada Lovelace", PersonaKind::Historical, "x", "Hi.");
        for format in [Format::V2, Format::V3, Format::Png] {
            let bytes = bytes(&ada, format, None).unwrap();
            let card = link::card::read_any(&bytes).unwrap().card;
            assert_eq!(card.to_persona().unwrap(), ada, "{format:?}");
        }
        assert_eq!(
            default_path(&ada, Format::Png),
            PathBuf::from("Ada_Lovelace.png")
        );
        assert_eq!(Format::of_path(Path::new("a.PNG")), Format::Png);
    }
}
