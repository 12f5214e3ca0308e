//! OpenTrackIO samples: any bytes as a JSON and as a CBOR payload decode or give an error; a
//! sample's CBOR decodes to a sample with the same CBOR; a sample that gives a reading gives a
//! finite one, and its `tracking.jsonl` line reads back with the same reading (and, from JSON,
//! which holds no NaN, as the same sample).
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_engine::tracking::opentrackio::{self, ENCODING_CBOR, ENCODING_JSON};
use yardline_engine::tracking::{Packet, TrackingSample, read_jsonl};

fuzz_target!(|data: &[u8]| {
    for encoding in [ENCODING_JSON, ENCODING_CBOR] {
        let Ok(sample) = opentrackio::decode_payload(encoding, data) else {
            continue;
        };
        let _ = sample.timecode();
        let _ = sample.sample_lens();
        let cbor = opentrackio::to_cbor(&sample);
        let back = opentrackio::decode_payload(ENCODING_CBOR, &cbor).expect("own CBOR decodes");
        assert_eq!(opentrackio::to_cbor(&back), cbor, "CBOR round trip");
        if let Ok(packet) = Packet::opentrackio(sample) {
            assert!(packet.reading().is_finite());
            let s = TrackingSample { pts_ns: 1, packet };
            let line = s.to_jsonl();
            let log = read_jsonl(line.as_bytes()).expect("a slice reads");
            assert_eq!(log.samples.len(), 1, "{line}");
            assert_eq!(log.samples[0].packet.reading(), s.packet.reading());
            if encoding == ENCODING_JSON {
                assert_eq!(log.samples[0], s, "tracking.jsonl round trip");
            }
        }
    }
});
