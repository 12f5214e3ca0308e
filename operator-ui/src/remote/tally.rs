//! Which camera is on air: TSL UMD v3.1 tally over UDP, or the operator's manual toggle.
//!
//! A TSL UMD v3.1 message is 18 bytes: the display address + 0x80, a control byte (bit 0:
//! tally 1, the programme tally; bits 1..=3 the other tallies; bits 4..=5 brightness; bit 7
//! clear) and 16 ASCII display characters. The listener runs on its own thread and keeps the
//! programme tally of every address it heard.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of a TSL UMD v3.1 message.
pub const TSL_V31_LEN: usize = 18;

/// One TSL UMD v3.1 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TslMessage {
    /// Display address (0..=126).
    pub address: u8,
    /// Tallies 1..=4 (tally 1: programme, on air).
    pub tallies: [bool; 4],
    /// Brightness (0..=3).
    pub brightness: u8,
    /// The display text, trailing spaces trimmed.
    pub text: String,
}

/// Parses one TSL UMD v3.1 message; `None` for anything else.
pub fn parse_tsl_v31(data: &[u8]) -> Option<TslMessage> {
    if data.len() != TSL_V31_LEN || data[0] < 0x80 || data[0] == 0xFF || data[1] & 0x80 != 0 {
        return None;
    }
    let control = data[1];
    let text: String = data[2..]
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    Some(TslMessage {
        address: data[0] - 0x80,
        tallies: [0, 1, 2, 3].map(|bit| control & (1 << bit) != 0),
        brightness: (control >> 4) & 0x03,
        text: text.trim_end().to_owned(),
    })
}

/// The programme tally of every display address heard (true: on air).
pub type TallyMap = Arc<Mutex<BTreeMap<u8, bool>>>;

/// A TSL UMD v3.1 listener on its own thread; stops when dropped.
#[derive(Debug)]
pub struct TslListener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TslListener {
    /// Listens on `addr`, writing the programme tallies into `map`.
    pub fn start(addr: SocketAddr, map: TallyMap) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("tsl tally".into())
            .spawn(move || {
                let mut buf = [0_u8; 64];
                while !flag.load(Ordering::Acquire) {
                    let Ok(n) = socket.recv(&mut buf) else {
                        continue;
                    };
                    if let Some(m) = parse_tsl_v31(&buf[..n]) {
                        map.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(m.address, m.tallies[0]);
                    }
                }
            })?;
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TslListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("tally listener panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsl_v31_messages_parse() {
        let mut m = [b' '; TSL_V31_LEN];
        m[0] = 0x80 + 3;
        m[1] = 0b0011_0001;
        m[2..7].copy_from_slice(b"CAM 4");
        let t = parse_tsl_v31(&m).unwrap_or_else(|| panic!("a message"));
        assert_eq!(t.address, 3);
        assert_eq!(t.tallies, [true, false, false, false]);
        assert_eq!(t.brightness, 3);
        assert_eq!(t.text, "CAM 4");
        assert!(parse_tsl_v31(&m[..17]).is_none());
        m[0] = 0x10;
        assert!(parse_tsl_v31(&m).is_none());
    }
}
