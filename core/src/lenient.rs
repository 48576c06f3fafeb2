//! Reading what another program wrote without trusting its shapes: a field of an unexpected
//! type is absent, never a failure of the whole document. Servers add and change fields; older
//! and newer releases of ours write state.json differently.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A value of `T`, or `None` when the field is missing, `null` or of another shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T> Lenient<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }

    pub fn as_ref(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Self(T::deserialize(v).ok()))
    }
}

/// `deserialize_with` form of [`Lenient`], for a public `Option<T>` field.
pub(crate) fn option<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(Lenient::<T>::deserialize(d)?.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        n: Lenient<u32>,
        #[serde(default)]
        s: Lenient<String>,
    }

    #[test]
    fn a_field_of_another_shape_is_absent_and_the_rest_still_reads() {
        let d: Doc = serde_json::from_str(r#"{"n": "seven", "s": "ok", "extra": [1]}"#).unwrap();
        assert_eq!(d.n.0, None);
        assert_eq!(d.s.0.as_deref(), Some("ok"));
        let d: Doc = serde_json::from_str(r#"{"n": 7, "s": null}"#).unwrap();
        assert_eq!((d.n.0, d.s.0), (Some(7), None));
        let d: Doc = serde_json::from_str("{}").unwrap();
        assert_eq!((d.n.0, d.s.0), (None, None));
    }
}
