//! The `tracking` property: `udp://ADDR:PORT` (a multicast group is joined) or
//! `file:///path/tracking.jsonl`, parsed into the engine's [`TrackingSpec`]; the engine's
//! [`TrackingFeed`] does the rest. And the frame's timecode from its `GstVideoTimeCodeMeta`,
//! which the engine matches tracking samples by.
//!
//! [`TrackingFeed`]: yardline_engine::tracking::TrackingFeed

use std::net::ToSocketAddrs;

use yardline_engine::tracking::{Timecode, TrackingSpec};

/// The timecode a buffer carries in its `GstVideoTimeCodeMeta`, when it carries a valid one
/// (one the engine can count: a rate up to 120 frames per second, drop frame at 29.97 or
/// 59.94 only).
pub fn frame_timecode(buffer: &gst::BufferRef) -> Option<Timecode> {
    let meta = buffer.meta::<gst_video::VideoTimeCodeMeta>()?;
    let tc = meta.tc();
    let fps = tc.fps();
    let field = |v: u32| u8::try_from(v).ok();
    Timecode::new(
        [
            field(tc.hours())?,
            field(tc.minutes())?,
            field(tc.seconds())?,
            field(tc.frames())?,
        ],
        (
            u32::try_from(fps.numer()).ok()?,
            u32::try_from(fps.denom()).ok()?,
        ),
        tc.flags()
            .contains(gst_video::VideoTimeCodeFlags::DROP_FRAME),
    )
    .ok()
}

/// Errors in a `tracking` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingUriError {
    /// Not a `udp://ADDR:PORT` or `file:///path` URI.
    #[error("tracking URI {0:?}: expected udp://ADDR:PORT or file:///path/tracking.jsonl")]
    BadUri(String),
    /// The address part does not resolve.
    #[error("tracking URI {uri:?}: cannot resolve {addr:?}")]
    BadAddress {
        /// The whole URI.
        uri: String,
        /// The address part.
        addr: String,
    },
}

/// Parses `udp://ADDR:PORT` (IPv4, `[IPv6]` or a host name) or a `file://` URI.
pub fn parse(uri: &str) -> Result<TrackingSpec, TrackingUriError> {
    let t = uri.trim();
    if let Some(addr) = t.strip_prefix("udp://") {
        let addr = addr.trim_end_matches('/');
        let resolved = addr
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| TrackingUriError::BadAddress {
                uri: uri.to_string(),
                addr: addr.to_string(),
            })?;
        return Ok(TrackingSpec::Udp(resolved));
    }
    if t.starts_with("file:") {
        let (path, _host) = gst::glib::filename_from_uri(t)
            .map_err(|_| TrackingUriError::BadUri(uri.to_string()))?;
        return Ok(TrackingSpec::File(path));
    }
    Err(TrackingUriError::BadUri(uri.to_string()))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn parses_udp_and_file_uris() {
        assert_eq!(
            parse("udp://127.0.0.1:40000").unwrap(),
            TrackingSpec::Udp("127.0.0.1:40000".parse().unwrap())
        );
        assert_eq!(
            parse("udp://[::1]:5000").unwrap(),
            TrackingSpec::Udp("[::1]:5000".parse().unwrap())
        );
        assert_eq!(
            parse("file:///tmp/a%20b/tracking.jsonl").unwrap(),
            TrackingSpec::File(PathBuf::from("/tmp/a b/tracking.jsonl"))
        );
        for bad in [
            "",
            "udp://",
            "udp://127.0.0.1",
            "http://x/y",
            "/tmp/t.jsonl",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
