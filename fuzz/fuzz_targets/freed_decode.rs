//! FreeD D1 decoding: any bytes (as a datagram and as hex text) decode or give an error;
//! whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_engine::tracking::SensorReading;
use yardline_engine::tracking::freed;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = freed::decode_checked(data) {
        assert_eq!(&p.encode()[..], data, "decode/encode round trip");
        let r = SensorReading::from(&p);
        assert!(r.is_finite());
    }
    let _ = freed::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = freed::parse_hex(text) {
            assert_eq!(freed::to_hex(&bytes).len(), freed::HEX_LEN);
        }
        let _ = freed::decode_hex(text);
    }
});
