//! The price table that turns reported tokens into an estimated cost: one line of settings,
//! `MODEL=INPUT/OUTPUT[,MODEL=INPUT/OUTPUT...]`, prices in US dollars per million tokens.

use std::collections::HashMap;
use std::str::FromStr;

/// What a model costs, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// Per million prompt tokens.
    pub input_per_million: f64,
    /// Per million generated tokens.
    pub output_per_million: f64,
}

impl Price {
    /// The cost of `input` prompt tokens and `output` generated ones, in US dollars.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input_per_million + output as f64 * self.output_per_million) / 1e6
    }
}

/// Prices by model id (as the provider's adapter reports it, e.g. `gpt-4o-mini` or
/// `amazon.nova-micro-v1:0`). Models it does not name have no cost metric.
///
/// ```
/// use link_telemetry::PriceTable;
///
/// let prices: PriceTable = "gpt-4o-mini=0.15/0.60, amazon.nova-micro-v1:0=0.035/0.14".parse()?;
/// let nova = prices.get("amazon.nova-micro-v1:0").unwrap();
/// assert!((nova.cost(1_000_000, 1_000_000) - 0.175).abs() < 1e-9);
/// assert!(prices.get("gpt-4o").is_none());
/// # Ok::<(), link_telemetry::PricesError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    prices: HashMap<String, Price>,
}

/// A price table that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "price entry {entry:?} is not MODEL=INPUT/OUTPUT (US dollars per million tokens, \
     non-negative), e.g. gpt-4o-mini=0.15/0.60"
)]
pub struct PricesError {
    /// The entry that does not parse.
    pub entry: String,
}

impl PriceTable {
    /// The price of `model`, if the table names it.
    pub fn get(&self, model: &str) -> Option<Price> {
        self.prices.get(model).copied()
    }

    /// How many models have a price.
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Whether no model has a price.
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}

impl FromStr for PriceTable {
    type Err = PricesError;

    fn from_str(text: &str) -> Result<Self, PricesError> {
        let entries = text.split(',').map(str::trim).filter(|e| !e.is_empty());
        let prices = entries
            .map(|entry| {
                parse_entry(entry).ok_or_else(|| PricesError {
                    entry: entry.to_owned(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { prices })
    }
}

/// `MODEL=INPUT/OUTPUT`. The model is split at the last `=`, as ids may hold `:` or `/`.
fn parse_entry(entry: &str) -> Option<(String, Price)> {
    let (model, prices) = entry.rsplit_once('=')?;
    let (input, output) = prices.split_once('/')?;
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
    };
    let model = model.trim();
    let price = Price {
        input_per_million: number(input)?,
        output_per_million: number(output)?,
    };
    (!model.is_empty()).then(|| (model.to_owned(), price))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_with_model_ids_holding_colons_and_slashes() {
        let table: PriceTable = "openai/gpt-4o=2.5/10,amazon.nova-micro-v1:0=0.035/0.14,"
            .parse()
            .unwrap();
        assert_eq!(table.len(), 2);
        let gpt = table.get("openai/gpt-4o").unwrap();
        assert_eq!(gpt.input_per_million, 2.5);
        assert!((gpt.cost(2_000, 1_000) - 0.015).abs() < 1e-12);
        assert!("".parse::<PriceTable>().unwrap().is_empty());
    }

    #[test]
    fn malformed_entries_are_named() {
        for bad in [
            "gpt-4o-mini",
            "gpt-4o-mini=0.15",
            "=1/2",
            "m=-1/2",
            "m=1/x",
            "m=NaN/1",
        ] {
            let error = bad.parse::<PriceTable>().unwrap_err();
            assert_eq!(error.entry, bad, "{bad}");
        }
    }
}
