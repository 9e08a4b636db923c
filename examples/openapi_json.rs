//! Prints the OpenAPI document that `GET /api/v1/openapi.json` serves, without starting a
//! server: `cargo run --example openapi_json > frontend/src/api/openapi.json`. The frontend's
//! API types are generated from that file (`scripts/checks/30-frontend-api-types`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

fn main() -> Result<(), serde_json::Error> {
    let doc = bangui::routes::openapi::document();
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}
