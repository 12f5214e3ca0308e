//! OpenTrackIO (SMPTE RIS OSVP): the UDP packet header, its Fletcher-16 checksum, segment
//! reassembly, and the JSON or CBOR sample inside.
//!
//! Packet (big-endian, 16-byte header then the payload or a segment of it):
//!
//! | bytes  | field                                  |
//! |--------|----------------------------------------|
//! | 0..4   | `OTrk`                                 |
//! | 4      | reserved (ignored)                     |
//! | 5      | encoding: 0x01 JSON, 0x02 CBOR         |
//! | 6..8   | sequence number (u16)                  |
//! | 8..12  | segment offset in the payload (bytes)  |
//! | 12..14 | bit 15: last segment; bits 0..15: this segment's length (bytes) |
//! | 14..16 | Fletcher-16 (mod 256) of bytes 0..14 and the segment, `sum2 << 8 | sum1` |
//!
//! Multicast groups are `239.135.1.N` for source number N (1..=200), port 55555.
//!
//! ## Conventions
//! OpenTrackIO's stage frame is right-handed, Z up, Y forward at zero rotation, X to camera
//! right: the engine's head frame ([`crate::head`]). Its rotations are intrinsic Z-X-Y
//! (pan, tilt, roll), positive by the right-hand rule ("clockwise" looking along the axis):
//! tilt up and roll clockwise seen from behind as FreeD, but **pan positive to the left**, so
//! the engine's pan is the negated OpenTrackIO pan. Translation is metres (the reading keeps
//! millimetres as FreeD does). Distortion radial coefficients apply to the radius in
//! millimetres on the sensor; the engine's k1, k2 are those times `F^2`, `F^4` (F the pinhole
//! focal length in mm). A sample with terms the engine's two-term camera cannot hold (a third
//! or later radial term, a tangential one) also keeps its whole model in the engine's
//! normalised terms ([`FullDistortion`]; the n-th radial coefficient times `F^2n`, tangential
//! ones times `F`): the camera then takes the two radial terms fitted to it over the image
//! (`LensTable::from_sample`), and a fit whose residual exceeds [`FIT_TOLERANCE_PX`] is logged
//! and counted (`lens::poor_distortion_fits`).

mod fit;
mod sample;

pub use fit::{FIT_TOLERANCE_PX, FullDistortion, MAX_RADIAL, TwoTermFit};
pub use sample::{
    Distortion, Encoders, Lens, MAX_SOURCE_NUMBER, MAX_TRANSFORMS, OpenTrackIoSample, Protocol,
    Rational, RawEncoders, Rotation, SampleLens, SensorSize, Static, StaticCamera, TimecodeField,
    Timestamp, Timing, Transform, Xy, Xyz,
};

use std::net::Ipv4Addr;

/// Header identifier.
pub const MAGIC: [u8; 4] = *b"OTrk";
/// Header length (bytes).
pub const HEADER_LEN: usize = 16;
/// Default UDP port.
pub const DEFAULT_PORT: u16 = 55555;
/// Largest segment payload the 15-bit length field can state (bytes).
pub const MAX_SEGMENT_PAYLOAD: usize = 0x7FFF;
/// Largest reassembled payload accepted (bytes); a longer one is dropped.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Encoding byte of a JSON payload.
pub const ENCODING_JSON: u8 = 0x01;
/// Encoding byte of a CBOR payload.
pub const ENCODING_CBOR: u8 = 0x02;

/// The multicast group of source number `n` (`239.135.1.n`).
pub fn multicast_group(source_number: u8) -> Ipv4Addr {
    Ipv4Addr::new(239, 135, 1, source_number)
}

/// Why bytes are not a usable OpenTrackIO packet or sample.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenTrackIoError {
    /// Shorter than the header or than the length it states.
    #[error("OpenTrackIO packet truncated: {got} bytes, needs {needed}")]
    Truncated {
        /// Bytes present.
        got: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// Does not start with `OTrk`.
    #[error("not an OpenTrackIO packet (no \"OTrk\" identifier)")]
    Magic,
    /// The checksum does not match.
    #[error("OpenTrackIO checksum mismatch: packet says 0x{got:04X}, bytes give 0x{expected:04X}")]
    Checksum {
        /// Checksum in the packet.
        got: u16,
        /// Checksum of the bytes.
        expected: u16,
    },
    /// Encoding byte other than JSON or CBOR.
    #[error("unknown OpenTrackIO encoding 0x{0:02X} (0x01 JSON and 0x02 CBOR are read)")]
    Encoding(u8),
    /// A segment that does not continue the payload being reassembled.
    #[error(
        "OpenTrackIO segment out of order: sequence {sequence} offset {offset}, expected offset {expected}"
    )]
    Segment {
        /// Sequence number of the segment.
        sequence: u16,
        /// Its offset (bytes).
        offset: u32,
        /// The offset that continues the payload (bytes).
        expected: usize,
    },
    /// A datagram that is one segment of a longer payload where a whole sample was expected.
    #[error("OpenTrackIO packet is one segment of a longer payload (sequence {0})")]
    Incomplete(u16),
    /// A reassembled payload over [`MAX_PAYLOAD`].
    #[error("OpenTrackIO payload over {MAX_PAYLOAD} bytes")]
    TooLarge,
    /// The payload is not a JSON or CBOR sample of the expected shape.
    #[error("OpenTrackIO {encoding} payload is not a sample: {message}")]
    Payload {
        /// `JSON` or `CBOR`.
        encoding: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A field the engine needs is missing.
    #[error("OpenTrackIO sample has no {0}")]
    Missing(&'static str),
    /// Source number 0 or above 200 (reserved).
    #[error("OpenTrackIO source number {0} is reserved (1..=200 are used)")]
    SourceNumber(u32),
    /// More transforms than [`MAX_TRANSFORMS`].
    #[error("OpenTrackIO sample has {0} transforms (at most {MAX_TRANSFORMS} are read)")]
    TooManyTransforms(usize),
    /// A non-finite or impossible value.
    #[error("OpenTrackIO {field} = {value} is not usable")]
    BadValue {
        /// Which field.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A distortion model other than Brown-Conrady.
    #[error("OpenTrackIO distortion model {0:?} is not read (Brown-Conrady U-D or D-U)")]
    DistortionModel(String),
    /// An invalid timecode.
    #[error("OpenTrackIO timecode: {0}")]
    Timecode(String),
}

impl OpenTrackIoError {
    /// True for a checksum failure (counted apart from other malformed packets).
    pub fn is_checksum(&self) -> bool {
        matches!(self, Self::Checksum { .. })
    }
}

/// Fletcher-16 with modulus 256 (`sum2 << 8 | sum1`), over several byte runs in order.
pub fn fletcher16(parts: &[&[u8]]) -> u16 {
    let (mut s1, mut s2) = (0_u8, 0_u8);
    for part in parts {
        for &b in *part {
            s1 = s1.wrapping_add(b);
            s2 = s2.wrapping_add(s1);
        }
    }
    (u16::from(s2) << 8) | u16::from(s1)
}

/// A checked packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload encoding byte.
    pub encoding: u8,
    /// Sequence number (count).
    pub sequence: u16,
    /// Offset of this segment in the payload (bytes).
    pub segment_offset: u32,
    /// This is the only or the last segment.
    pub last_segment: bool,
    /// Length of this segment (bytes).
    pub payload_len: u16,
    /// The Fletcher-16 checksum (checked).
    pub checksum: u16,
}

/// Reads and checks one datagram: identifier, stated length, checksum. Returns the header and
/// this segment's bytes; trailing bytes past the stated length are ignored.
pub fn parse_packet(data: &[u8]) -> Result<(Header, &[u8]), OpenTrackIoError> {
    if data.len() < HEADER_LEN {
        return Err(OpenTrackIoError::Truncated {
            got: data.len(),
            needed: HEADER_LEN,
        });
    }
    if data[0..4] != MAGIC {
        return Err(OpenTrackIoError::Magic);
    }
    let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    let len_field = be16(12);
    let payload_len = len_field & 0x7FFF;
    let end = HEADER_LEN + usize::from(payload_len);
    if data.len() < end {
        return Err(OpenTrackIoError::Truncated {
            got: data.len(),
            needed: end,
        });
    }
    let payload = &data[HEADER_LEN..end];
    let got = be16(14);
    let expected = fletcher16(&[&data[..14], payload]);
    if got != expected {
        return Err(OpenTrackIoError::Checksum { got, expected });
    }
    let header = Header {
        encoding: data[5],
        sequence: be16(6),
        segment_offset: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
        last_segment: len_field & 0x8000 != 0,
        payload_len,
        checksum: got,
    };
    if !matches!(header.encoding, ENCODING_JSON | ENCODING_CBOR) {
        return Err(OpenTrackIoError::Encoding(header.encoding));
    }
    Ok((header, payload))
}

/// Splits a payload into datagrams of at most `max_segment` payload bytes each (clamped to
/// 1..=[`MAX_SEGMENT_PAYLOAD`]), all with sequence number `sequence`.
pub fn encode_packets(
    encoding: u8,
    sequence: u16,
    payload: &[u8],
    max_segment: usize,
) -> Vec<Vec<u8>> {
    let seg = max_segment.clamp(1, MAX_SEGMENT_PAYLOAD);
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let end = (offset + seg).min(payload.len());
        let chunk = &payload[offset..end];
        let last = end == payload.len();
        let mut p = Vec::with_capacity(HEADER_LEN + chunk.len());
        p.extend_from_slice(&MAGIC);
        p.push(0);
        p.push(encoding);
        p.extend_from_slice(&sequence.to_be_bytes());
        p.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_be_bytes());
        let len = u16::try_from(chunk.len()).unwrap_or(0x7FFF) | if last { 0x8000 } else { 0 };
        p.extend_from_slice(&len.to_be_bytes());
        let sum = fletcher16(&[&p[..14], chunk]);
        p.extend_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(chunk);
        out.push(p);
        if last {
            return out;
        }
        offset = end;
    }
}

/// Decodes a complete payload.
pub fn decode_payload(encoding: u8, payload: &[u8]) -> Result<OpenTrackIoSample, OpenTrackIoError> {
    match encoding {
        ENCODING_JSON => serde_json::from_slice(payload).map_err(|e| OpenTrackIoError::Payload {
            encoding: "JSON",
            message: e.to_string(),
        }),
        ENCODING_CBOR => {
            ciborium::de::from_reader(payload).map_err(|e| OpenTrackIoError::Payload {
                encoding: "CBOR",
                message: e.to_string(),
            })
        }
        other => Err(OpenTrackIoError::Encoding(other)),
    }
}

/// A sample as CBOR bytes.
pub fn to_cbor(sample: &OpenTrackIoSample) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing plain structs into a Vec cannot fail.
    if let Err(e) = ciborium::ser::into_writer(sample, &mut out) {
        tracing::error!("OpenTrackIO CBOR encoding failed: {e}");
    }
    out
}

/// Reassembles segmented payloads, one sequence at a time: a segment of another sequence
/// number, or one that does not continue the payload, drops the partial payload (an
/// incomplete payload is discarded whole, as the specification asks). A datagram received
/// twice in a row (same header, checksum included) is taken once, as the specification asks
/// of repeated multicast messages.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number, encoding and bytes of the payload being assembled.
    partial: Option<(u16, u8, Vec<u8>)>,
    /// Header of the last datagram taken.
    last: Option<Header>,
    /// Payloads dropped incomplete (payloads).
    dropped: u64,
    /// Repeated datagrams ignored (datagrams).
    duplicates: u64,
}

impl Reassembler {
    /// A reassembler with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Partial payloads dropped so far because a segment was lost or out of order (payloads).
    pub fn incomplete_dropped(&self) -> u64 {
        self.dropped
    }

    /// Repeated datagrams ignored so far (datagrams).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Takes one datagram; returns the encoding and the whole payload once its last segment
    /// is in, `None` while segments are pending or when it repeats the previous datagram.
    pub fn push(&mut self, data: &[u8]) -> Result<Option<(u8, Vec<u8>)>, OpenTrackIoError> {
        let (h, seg) = parse_packet(data)?;
        if self.last == Some(h) {
            self.duplicates += 1;
            return Ok(None);
        }
        self.last = Some(h);
        let continues = matches!(&self.partial, Some((seq, enc, _)) if *seq == h.sequence && *enc == h.encoding);
        if !continues && self.partial.take().is_some() {
            self.dropped += 1;
        }
        if h.segment_offset == 0 && h.last_segment {
            if self.partial.take().is_some() {
                self.dropped += 1;
            }
            return Ok(Some((h.encoding, seg.to_vec())));
        }
        let (_, _, buf) = self
            .partial
            .get_or_insert_with(|| (h.sequence, h.encoding, Vec::new()));
        if usize::try_from(h.segment_offset).ok() != Some(buf.len()) {
            let expected = buf.len();
            self.partial = None;
            self.dropped += 1;
            return Err(OpenTrackIoError::Segment {
                sequence: h.sequence,
                offset: h.segment_offset,
                expected,
            });
        }
        if buf.len() + seg.len() > MAX_PAYLOAD {
            self.partial = None;
            self.dropped += 1;
            return Err(OpenTrackIoError::TooLarge);
        }
        buf.extend_from_slice(seg);
        if h.last_segment {
            return Ok(self.partial.take().map(|(_, enc, b)| (enc, b)));
        }
        Ok(None)
    }
}

/// Decodes one unsegmented datagram into a sample.
pub fn decode_datagram(data: &[u8]) -> Result<OpenTrackIoSample, OpenTrackIoError> {
    match Reassembler::new().push(data)? {
        Some((enc, payload)) => decode_payload(enc, &payload),
        None => Err(OpenTrackIoError::Incomplete(u16::from_be_bytes([
            data[6], data[7],
        ]))),
    }
}
