//! The clients' idle connections: kept between fetches, let go by [`Fetcher::without_connections`], and not kept
//! after a fetch marked the last from its host ([`FetchRequest::last_to_host`]). Against a
//! raw HTTP/1.1 server on 127.0.0.1 that counts the connections it accepts and those the client closed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use super::test_server::*;
use super::*;

#[derive(Default)]
struct Connections {
    accepted: AtomicUsize,
    closed: AtomicUsize,
}

/// Answers every request on a connection with a small feed, keeping the connection open until the client closes it.
fn counting_server() -> (SocketAddr, Arc<Connections>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = Arc::new(Connections::default());
    let seen = counts.clone();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let mut socket = socket.unwrap();
            seen.accepted.fetch_add(1, SeqCst);
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    match socket.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                    if request.windows(4).any(|w| w == b"\r\n\r\n") {
                        request.clear();
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n{FEED}",
                            FEED.len()
                        );
                        if socket.write_all(answer.as_bytes()).is_err() {
                            break;
                        }
                    }
                }
                seen.closed.fetch_add(1, SeqCst);
            });
        }
    });
    (addr, counts)
}

#[tokio::test]
async fn idle_connections_are_kept_and_let_go_with_the_clients() {
    let (addr, counts) = counting_server();
    let fetcher = Fetcher::new(settings()).unwrap();
    for _ in 0..2 {
        fetched(fetcher.fetch(&req(addr, "/feed")).await);
    }
    assert_eq!(
        counts.accepted.load(SeqCst),
        1,
        "the second fetch reused the connection"
    );

    let fresh = fetcher.without_connections().unwrap();
    drop(fetcher);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while counts.closed.load(SeqCst) < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the idle connection was not closed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The fresh fetcher works, on a connection of its own.
    fetched(fresh.fetch(&req(addr, "/feed")).await);
    assert_eq!(counts.accepted.load(SeqCst), 2);
}

#[tokio::test]
async fn the_last_fetch_from_a_host_closes_its_connection_once_read() {
    let (addr, counts) = counting_server();
    let fetcher = Fetcher::new(settings()).unwrap();
    let last = FetchRequest {
        last_to_host: true,
        ..req(addr, "/feed")
    };
    fetched(fetcher.fetch(&last).await);
    // The fetcher lives on: the connection is closed because the request said so, not with the client.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while counts.closed.load(SeqCst) < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the connection was kept idle"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(counts.accepted.load(SeqCst), 1);
    drop(fetcher);
}
