//! A control API set request (`POST /v1/set` body or WebSocket message): any bytes give a
//! type-checked change or an error, never a panic; an accepted change survives the round trip
//! through the form a client sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_control::protocol::{SetRequest, parse_set};

fuzz_target!(|data: &[u8]| {
    let Ok(change) = parse_set(data) else {
        return;
    };
    let body = serde_json::to_vec(&SetRequest::from(&change)).expect("a change serialises");
    assert_eq!(parse_set(&body).as_ref(), Ok(&change), "round trip of {change:?}");
});
