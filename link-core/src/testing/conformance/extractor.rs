//! The [`PersonaExtractor`] checks: a named model, and a persona that validates once
//! normalised.

use super::expect_ok;
use crate::{Persona, PersonaExtractor};

/// Runs every check of this module and returns the persona extracted from `request`, for
/// assertions of the adapter's own.
pub async fn persona_extractor(extractor: &dyn PersonaExtractor, request: &str) -> Persona {
    model_id_is_not_empty(extractor);
    extracts_a_valid_persona(extractor, request).await
}

/// `model_id` names the model (audit records carry it).
pub fn model_id_is_not_empty(extractor: &dyn PersonaExtractor) {
    assert!(!extractor.model_id().is_empty(), "model_id is empty");
}

/// `extract` turns `request` into a persona that, once normalised, validates; returns it.
pub async fn extracts_a_valid_persona(extractor: &dyn PersonaExtractor, request: &str) -> Persona {
    // The engine's own check (normalise, then validate), the one every persona passes.
    match expect_ok(extractor.extract(request).await, "extract").validated() {
        Ok(persona) => persona,
        Err(e) => panic!("extracted persona does not validate: {e}"),
    }
}
