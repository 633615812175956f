//! `link keys`: the user's API keys for OpenAI-compatible chat clients, made, listed and
//! revoked here or on the server (`--server`).

use link::Result;
use link_wire::{ApiKeyBody, CreatedApiKey};
use time::format_description::well_known::Rfc3339;

use crate::backend::Backend;
use crate::cli::KeysCommand;
use crate::out;
use crate::style::Style;

/// Runs `link keys ...`, printing JSON with `json`.
pub async fn run(
    backend: &dyn Backend,
    style: Style,
    command: KeysCommand,
    json: bool,
) -> Result<()> {
    match command {
        KeysCommand::Create { name } => {
            let created = backend.create_key(&name).await?;
            match json {
                true => out::json(&created),
                false => out::line(&created_key(style, &created)),
            }
        }
        KeysCommand::List => {
            let list = backend.keys().await?;
            match json {
                true => out::json(&list),
                false => out::line(&keys(style, &list.keys)),
            }
        }
        KeysCommand::Revoke { id } => {
            backend.revoke_key(&id).await?;
            match json {
                true => out::json(&serde_json::json!({ "revoked": id })),
                false => out::line(&format!("Revoked key {id}.")),
            }
        }
    }
    Ok(())
}

/// A new key, with the warning that it is shown once.
fn created_key(style: Style, created: &CreatedApiKey) -> String {
    format!(
        "{}\n{} {}\n{}",
        created.key_secret,
        style.dim("id:"),
        created.key.id,
        style.dim("Copy the key now: it is not shown again. Clients send it as their API key."),
    )
}

/// One line per key: id, name, first characters, when made.
fn keys(style: Style, keys: &[ApiKeyBody]) -> String {
    if keys.is_empty() {
        return style.dim("no API keys yet: try `link keys create \"Open WebUI\"`");
    }
    keys.iter()
        .map(|k| {
            let when = k.created_at.format(&Rfc3339).unwrap_or_default();
            format!(
                "{}  {}  {}…  {}",
                k.id,
                style.name(&k.name),
                k.hint,
                style.dim(&when)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_show_their_hint_never_more() {
        let key = ApiKeyBody {
            id: "k1".into(),
            name: "webui".into(),
            hint: "lk_abcdef".into(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let text = keys(Style::new(false), &[key]);
        assert!(text.contains("k1") && text.contains("webui") && text.contains("lk_abcdef…"));
        assert!(keys(Style::new(false), &[]).contains("link keys create"));
    }
}
