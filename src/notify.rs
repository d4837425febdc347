//! The systemd notification protocol (`sd_notify`), so that `Type=notify` units know when qafila is ready, what
//! it is doing, when it stops, and that it is still alive (`WatchdogSec=`).
//!
//! It is a datagram of `KEY=VALUE` lines sent to the Unix socket named by `$NOTIFY_SOCKET` (a path, or an
//! abstract socket when it starts with `@`). Outside systemd the variable is unset and every call does nothing.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends one notification; returns whether a socket was there to send it to. Errors are logged, never fatal:
/// a missed notification must not stop the daemon.
pub(crate) fn notify(state: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let result = UnixDatagram::unbound().and_then(|socket| {
        let path = path.to_string_lossy();
        match path.strip_prefix('@') {
            Some(abstract_name) => send_abstract(&socket, abstract_name, state),
            None => socket.send_to(state.as_bytes(), &*path).map(|_| ()),
        }
    });
    if let Err(e) = &result {
        tracing::warn!(error = %e, "could not notify systemd");
    }
    result.is_ok()
}

#[cfg(target_os = "linux")]
fn send_abstract(socket: &UnixDatagram, name: &str, state: &str) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    socket.send_to_addr(state.as_bytes(), &addr).map(|_| ())
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_: &UnixDatagram, _: &str, _: &str) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract sockets are Linux-only",
    ))
}

pub(crate) fn ready(status: &str) {
    notify(&format!("READY=1\nSTATUS={}", one_line(status)));
}

pub(crate) fn status(status: &str) {
    notify(&format!("STATUS={}", one_line(status)));
}

pub(crate) fn stopping() {
    notify("STOPPING=1\nSTATUS=stopping");
}

pub(crate) fn watchdog() {
    notify("WATCHDOG=1");
}

/// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, when systemd asks for it (and it is meant for us).
pub(crate) fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        if pid != std::process::id() {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_a_real_datagram_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        // Safe in this test binary: no other test reads NOTIFY_SOCKET.
        unsafe { std::env::set_var("NOTIFY_SOCKET", &path) };
        ready("serving 3 stories");
        status("round done\nnext");
        stopping();
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        for _ in 0..3 {
            let n = server.recv(&mut buf).unwrap();
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(
            got,
            [
                "READY=1\nSTATUS=serving 3 stories",
                "STATUS=round done next",
                "STOPPING=1\nSTATUS=stopping"
            ]
        );
        assert!(!notify("STATUS=unset"), "no socket, no send");
    }
}
