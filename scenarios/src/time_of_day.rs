//! Times of day as planners write them: `"08:00"`, `"17:30:15"` or the TOML local time
//! `08:00:00`. The run starts at the opening time; scheduled events are given as times of
//! day and become [`SimTime`](storetwin_engine::SimTime) since the opening.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::deserializer::RAW_TEXT;

/// Seconds since midnight, from 00:00 to 24:00 inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(pub u32);

impl TimeOfDay {
    pub fn seconds(self) -> u32 {
        self.0
    }

    /// Parses `HH:MM` or `HH:MM:SS`.
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let mut parts = text.trim().split(':');
        let mut field = |max: u32| -> Option<u32> {
            let p = parts.next()?;
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u32>().ok().filter(|v| *v <= max)
        };
        let h = field(24)?;
        let m = field(59)?;
        let s = match parts.next() {
            None => 0,
            Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u32>().ok().filter(|s| *s <= 59)?
            }
            Some(_) => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        let seconds = h * 3600 + m * 60 + s;
        (seconds <= 24 * 3600).then_some(TimeOfDay(seconds))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 / 60 % 60, self.0 % 60);
        if s == 0 { write!(f, "{h:02}:{m:02}") } else { write!(f, "{h:02}:{m:02}:{s:02}") }
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TimeOfDay, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_TEXT, TimeVisitor)
    }
}

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = TimeOfDay;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a time of day like \"08:00\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeOfDay, E> {
        TimeOfDay::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<TimeOfDay, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl JsonSchema for TimeOfDay {
    fn schema_name() -> Cow<'static, str> {
        "TimeOfDay".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A time of day, \"HH:MM\" or \"HH:MM:SS\", from \"00:00\" to \"24:00\" (a TOML local time such as 08:00:00 works too).",
            "anyOf": [
                { "type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9](:[0-5][0-9])?$" },
                { "type": "string", "format": "partial-time" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_to_seconds_since_midnight() {
        assert_eq!(TimeOfDay::parse("08:00"), Some(TimeOfDay(8 * 3600)));
        assert_eq!(TimeOfDay::parse("17:30:15"), Some(TimeOfDay(17 * 3600 + 30 * 60 + 15)));
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay(24 * 3600)));
        for bad in ["8:00", "24:01", "12:60", "12:00:60", "noon", "12:00:00:00", "12-00", ""] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad:?} was accepted");
        }
        assert_eq!(TimeOfDay(8 * 3600 + 30 * 60).to_string(), "08:30");
    }
}
