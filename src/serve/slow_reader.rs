//! Dropping clients that read a response too slowly (see [`SlowReaderGuard`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A client must take at least this many bytes of a pending response…
const MIN_PROGRESS: usize = 32 * 1024;
/// …within this time, or its connection is dropped (a reader slower than about 3 KiB/s on a large document).
pub(crate) const WRITE_STALL: Duration = Duration::from_secs(10);

/// Wraps a connection's socket: while a response is being written and the socket does not take it, the client
/// must accept [`MIN_PROGRESS`] bytes within [`WRITE_STALL`] or the write fails with `TimedOut` and the
/// connection is dropped. Reading through a tiny TCP window (1 KiB at a time) thus cannot hold a connection and
/// its slot for hours. The clock starts at the first write the socket cannot take and restarts after each
/// [`MIN_PROGRESS`] bytes, or when everything queued was handed to the kernel (`flush`).
pub(crate) struct SlowReaderGuard<S> {
    inner: S,
    stall: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    progress: usize,
}

impl<S> SlowReaderGuard<S> {
    /// Guards `inner` with the daemon's limit, [`WRITE_STALL`].
    pub(crate) fn new(inner: S) -> Self {
        SlowReaderGuard::with_stall(inner, WRITE_STALL)
    }

    /// Guards `inner`, allowing `stall` for each [`MIN_PROGRESS`] bytes.
    pub(crate) fn with_stall(inner: S, stall: Duration) -> Self {
        SlowReaderGuard {
            inner,
            stall,
            deadline: None,
            progress: 0,
        }
    }

    fn made_progress(&mut self, n: usize) {
        self.progress += n;
        if self.progress >= MIN_PROGRESS {
            self.reset();
        }
    }

    fn reset(&mut self) {
        self.deadline = None;
        self.progress = 0;
    }

    /// The socket cannot take more now: start (or check) the clock.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(self.stall)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client reads the response too slowly",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SlowReaderGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SlowReaderGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                self.made_progress(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => self.stalled(cx),
            other => other,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                self.made_progress(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => self.stalled(cx),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.inner).poll_flush(cx);
        if flushed.is_ready() {
            self.reset();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const STALL: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_reader_that_never_reads_is_dropped() {
        let (server, _client) = tokio::io::duplex(1024);
        let mut guarded = SlowReaderGuard::with_stall(server, STALL);
        let err = guarded.write_all(&[b'x'; 64 * 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_trickling_reader_is_dropped_and_a_normal_one_is_not() {
        // 1 KiB every 50 ms is about 20 KiB/s: less than MIN_PROGRESS per STALL.
        let (server, mut client) = tokio::io::duplex(1024);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = client.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let mut guarded = SlowReaderGuard::with_stall(server, STALL);
        let err = guarded.write_all(&[b'x'; 256 * 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(guarded);
        reader.await.unwrap();

        let (server, mut client) = tokio::io::duplex(1024);
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            client.read_to_end(&mut all).await.unwrap();
            all.len()
        });
        let mut guarded = SlowReaderGuard::with_stall(server, STALL);
        guarded.write_all(&[b'x'; 256 * 1024]).await.unwrap();
        guarded.shutdown().await.unwrap();
        drop(guarded);
        assert_eq!(reader.await.unwrap(), 256 * 1024);
    }
}
