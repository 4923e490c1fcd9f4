//! Prices as planners write them, read exactly into [`Cents`].
//!
//! A price is a decimal in major units with at most two decimals: `"2.49"`, `2.49`, `3`
//! or `"3.5"`. It is read from the text as written (a TOML float included), digit by
//! digit, never through `f64`, so `2.49` is exactly 249 cents.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use storetwin_actors::Cents;

use crate::deserializer::RAW_TEXT;

/// An amount of money in a scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price(pub Cents);

/// Why a price text is not a price.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("a price is a decimal number like \"2.49\", found {0:?}")]
    NotDecimal(String),
    #[error("a price has at most 2 decimals (cents), found {0:?}")]
    TooManyDecimals(String),
    #[error("a price cannot be negative, found {0:?}")]
    Negative(String),
    #[error("price {0:?} is too large")]
    TooLarge(String),
}

/// Parses a decimal amount in major units into cents, exactly.
pub fn parse_price(text: &str) -> Result<Cents, PriceError> {
    let trimmed = text.trim();
    let unsigned = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if unsigned.starts_with('-') {
        return Err(PriceError::Negative(text.to_owned()));
    }
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(PriceError::NotDecimal(text.to_owned()));
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > 2 {
        return Err(PriceError::TooManyDecimals(text.to_owned()));
    }
    let too_large = || PriceError::TooLarge(text.to_owned());
    let mut cents: i64 = 0;
    for b in whole.bytes().chain(fraction.bytes()).chain(std::iter::repeat_n(b'0', 2 - fraction.len())) {
        cents = cents.checked_mul(10).and_then(|c| c.checked_add(i64::from(b - b'0'))).ok_or_else(too_large)?;
    }
    Ok(Cents(cents))
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Price, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_TEXT, PriceVisitor)
    }
}

struct PriceVisitor;

impl<'de> Visitor<'de> for PriceVisitor {
    type Value = Price;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a price like \"2.49\" (at most 2 decimals)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Price, E> {
        parse_price(v).map(Price).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Price, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Price, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Price, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl JsonSchema for Price {
    fn schema_name() -> Cow<'static, str> {
        "Price".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An amount in major units with at most 2 decimals, best written as a string: \"2.49\".",
            "anyOf": [
                { "type": "string", "pattern": "^\\+?[0-9]+(\\.[0-9]{1,2})?$" },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_exact_cents() {
        assert_eq!(parse_price("2.49"), Ok(Cents(249)));
        assert_eq!(parse_price("0.1"), Ok(Cents(10)));
        assert_eq!(parse_price("0.07"), Ok(Cents(7)));
        assert_eq!(parse_price("3"), Ok(Cents(300)));
        assert_eq!(parse_price("+12.50"), Ok(Cents(1250)));
        // 0.29 * 100 is 28.999999999999996 in f64: the digits are read, not a float.
        assert_eq!(parse_price("0.29"), Ok(Cents(29)));
        assert_eq!(parse_price("1234567.89"), Ok(Cents(123_456_789)));
    }

    #[test]
    fn anything_but_a_plain_decimal_is_refused() {
        assert_eq!(parse_price("2.499"), Err(PriceError::TooManyDecimals("2.499".into())));
        assert_eq!(parse_price("-1.00"), Err(PriceError::Negative("-1.00".into())));
        for bad in ["", "2.", ".5", "2,49", "$2.49", "1e3", "inf", "nan", "2.4.9", "0x10", "two"] {
            assert!(matches!(parse_price(bad), Err(PriceError::NotDecimal(_))), "{bad:?} was accepted");
        }
        assert!(matches!(parse_price("92233720368547758.08"), Err(PriceError::TooLarge(_))));
    }
}
