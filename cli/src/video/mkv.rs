//! Reproducible Matroska files.
//!
//! matroskamux writes a random `SegmentUID` and `TrackUID` (and the wall-clock date, which the
//! writer pins through `creation-time`). For "same input, same bytes" the writer overwrites the
//! UIDs in place, once the file is complete, with values derived from the stream's parameters.
//! Only fixed-size payloads are rewritten; nothing moves.
//!
//! The rewrite keeps each UID's width, so the width must not be random either: matroskamux
//! draws a `TrackUID` from the global generator of `GLib` when its pad is requested and writes
//! it in as few bytes as it needs (7 in one draw of 256). [`seed_track_uids`], called just
//! before the pad is requested, makes that draw a fixed one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

const ID_SEGMENT: u32 = 0x1853_8067;
const ID_INFO: u32 = 0x1549_A966;
const ID_SEGMENT_UID: u32 = 0x73A4;
const ID_TRACKS: u32 = 0x1654_AE6B;
const ID_TRACK_ENTRY: u32 = 0xAE;
const ID_TRACK_UID: u32 = 0x73C5;
const ID_TAGS: u32 = 0x1254_C367;
const ID_TAG: u32 = 0x7373;
const ID_TARGETS: u32 = 0x63C0;
const ID_TAG_TRACK_UID: u32 = 0x63C5;

/// Elements whose children hold the UIDs.
const DESCEND: [u32; 6] = [
    ID_INFO,
    ID_TRACKS,
    ID_TRACK_ENTRY,
    ID_TAGS,
    ID_TAG,
    ID_TARGETS,
];

/// The seed of the global generator of `GLib` before matroskamux draws a `TrackUID`: its first
/// draw, the UID's high half, has a non-zero top byte, so the UID takes all 8 bytes (the video
/// tests check both).
const TRACK_UID_DRAW_SEED: u32 = 0x5941_5244;

/// Seeds the global generator of `GLib` (the whole process's) so that the next `TrackUID`
/// matroskamux draws (when a pad is requested, on this thread) is the same 8-byte value on
/// every run.
pub(super) fn seed_track_uids() {
    gst::glib::random_set_seed(TRACK_UID_DRAW_SEED);
}

/// Replaces the random UIDs of the Matroska file at `path` with values derived from `seed`.
pub(super) fn pin_uids(path: &Path, seed: u64) -> io::Result<()> {
    let mut file = File::options().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut pos = 0;
    // Top level: the EBML header, then the Segment.
    while pos < len {
        let (id, size, header) = read_element_header(&mut file, pos)?;
        let body = pos + header;
        if id == ID_SEGMENT {
            let end = size.map_or(len, |s| (body + s).min(len));
            let mut state = Pins {
                state: seed,
                track_uids: Vec::new(),
            };
            walk(&mut file, body, end, &mut state)?;
            return Ok(());
        }
        let Some(size) = size else {
            break;
        };
        pos = body + size;
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "no Matroska segment found",
    ))
}

struct Pins {
    state: u64,
    /// (old, new) track UIDs, so tag targets follow their track.
    track_uids: Vec<(u64, u64)>,
}

impl Pins {
    /// splitmix64: a well-mixed, never-zero-in-practice sequence.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).max(1)
    }
}

fn walk(file: &mut File, mut pos: u64, end: u64, pins: &mut Pins) -> io::Result<()> {
    while pos < end {
        let (id, size, header) = read_element_header(file, pos)?;
        let body = pos + header;
        let Some(size) = size else {
            // Unknown size (a live-written cluster): nothing after it can be located.
            return Ok(());
        };
        match id {
            ID_SEGMENT_UID if size == 16 => {
                let mut uid = [0u8; 16];
                uid[..8].copy_from_slice(&pins.next().to_be_bytes());
                uid[8..].copy_from_slice(&pins.next().to_be_bytes());
                write_at(file, body, &uid)?;
            }
            ID_TRACK_UID if (1..=8).contains(&size) => {
                let old = read_uint(file, body, size)?;
                let new = fit(pins.next(), size);
                pins.track_uids.push((old, new));
                write_at(file, body, &new.to_be_bytes()[8 - size as usize..])?;
            }
            ID_TAG_TRACK_UID if (1..=8).contains(&size) => {
                let old = read_uint(file, body, size)?;
                if let Some(&(_, new)) = pins.track_uids.iter().find(|(o, _)| *o == old)
                    && new <= max_for(size)
                {
                    write_at(file, body, &new.to_be_bytes()[8 - size as usize..])?;
                }
            }
            _ if DESCEND.contains(&id) => walk(file, body, body + size, pins)?,
            _ => {}
        }
        pos = body + size;
    }
    Ok(())
}

fn max_for(size: u64) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size)) - 1
    }
}

/// `value` reduced to `size` bytes, never zero.
fn fit(value: u64, size: u64) -> u64 {
    (value & max_for(size)).max(1)
}

fn write_at(file: &mut File, pos: u64, bytes: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(pos))?;
    file.write_all(bytes)
}

fn read_uint(file: &mut File, pos: u64, size: u64) -> io::Result<u64> {
    let mut buf = [0u8; 8];
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(&mut buf[8 - size as usize..])?;
    Ok(u64::from_be_bytes(buf))
}

/// Reads an element's ID and size at `pos`: (id, size or `None` when unknown, header bytes).
fn read_element_header(file: &mut File, pos: u64) -> io::Result<(u32, Option<u64>, u64)> {
    let mut buf = [0u8; 12];
    file.seek(SeekFrom::Start(pos))?;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("malformed EBML element at byte {pos}"),
        )
    };
    let id_len = (buf[0].leading_zeros() + 1) as usize;
    if id_len > 4 || id_len > filled {
        return Err(bad());
    }
    let id = buf[..id_len]
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    let first = *buf.get(id_len).ok_or_else(bad)?;
    let size_len = (first.leading_zeros() + 1) as usize;
    if size_len > 8 || id_len + size_len > filled {
        return Err(bad());
    }
    let mut size = u64::from(first) & (0xFF >> size_len);
    let mut all_ones = size == 0xFF >> size_len;
    for &b in &buf[id_len + 1..id_len + size_len] {
        size = (size << 8) | u64::from(b);
        all_ones &= b == 0xFF;
    }
    Ok((id, (!all_ones).then_some(size), (id_len + size_len) as u64))
}
