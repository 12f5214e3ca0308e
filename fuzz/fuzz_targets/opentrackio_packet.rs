//! OpenTrackIO datagrams: any bytes, cut into datagrams, go through the header check and the
//! reassembly and give samples or errors. The first byte's low bit asks for the checksums to be
//! made right, so that the fuzzer reaches the segments and the payload behind them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_engine::tracking::opentrackio::{
    self, HEADER_LEN, MAX_PAYLOAD, Reassembler, fletcher16,
};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut r = Reassembler::new();
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let mut datagram = rest[2..2 + len].to_vec();
        rest = &rest[2 + len..];
        if flags & 1 == 1 && datagram.len() >= HEADER_LEN {
            let stated = usize::from(u16::from_be_bytes([datagram[12], datagram[13]]) & 0x7FFF);
            let end = (HEADER_LEN + stated).min(datagram.len());
            let sum = fletcher16(&[&datagram[..14], &datagram[HEADER_LEN..end]]);
            datagram[14..16].copy_from_slice(&sum.to_be_bytes());
        }
        let _ = opentrackio::decode_datagram(&datagram);
        if let Ok(Some((encoding, payload))) = r.push(&datagram) {
            assert!(payload.len() <= MAX_PAYLOAD);
            if let Ok(sample) = opentrackio::decode_payload(encoding, &payload)
                && let Ok(reading) = sample.reading()
            {
                assert!(reading.is_finite(), "{reading:?}");
            }
        }
    }
});
