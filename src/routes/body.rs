//! JSON request bodies as the document describes them: every body is a JSON object. serde's
//! derived structs also read a JSON array of the fields in order (`[null, null]` was a valid
//! "change nothing"), so handlers take `web::Json<JsonObject<T>>`, which refuses anything but an
//! object before reading `T` from it.

use std::ops::Deref;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A `T` read from a JSON object, never from an array or a scalar. Derefs to `T`.
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        serde_json::from_value(Value::Object(object))
            .map(JsonObject)
            .map_err(D::Error::custom)
    }
}

impl<T> Deref for JsonObject<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
