//! `tracking.jsonl` reading: any bytes give a log or an error, and a log writes back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_engine::tracking::{read_jsonl, source::write_jsonl};

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = read_jsonl(data) {
        let mut out = Vec::new();
        write_jsonl(&mut out, &log.samples).expect("writing to a Vec cannot fail");
        let again = read_jsonl(&out[..]).expect("what was written reads back");
        assert_eq!(again.samples, log.samples);
    }
});
