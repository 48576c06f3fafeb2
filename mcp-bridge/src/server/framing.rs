//! The bridge's own line framing of stdin and stdout, around rmcp's transport.
//!
//! rmcp's stdio transport drops a line over its limit (16 MiB) without a word, so a client that
//! sends a 20 MB request waits for an answer that never comes. Here every line read is passed to
//! rmcp whole, at most [`MAX_LINE_BYTES`] of it; a longer line is dropped as it streams in
//! (never held whole: a scan keeps only its JSON depth and, once found, its `id`) and answered
//! with a JSON-RPC error that names the limit. rmcp writes into a [`LineWriter`] that hands whole
//! lines to one writer task, which also writes those errors: two messages never interleave.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use rmcp::ErrorData;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::PollSender;

mod id_scan;
use id_scan::IdScan;

/// The longest line (one JSON-RPC message, its newline included) passed to rmcp: rmcp's own
/// limit, so a line passed is never dropped there.
pub const MAX_LINE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// Whole lines waiting for the writer task (back-pressure beyond that).
const QUEUE: usize = 16;

/// Frame `read` and `write` for rmcp: the reader to give it, the writer to give it, and the task
/// that writes every line to `write` (it ends once both are dropped and the lines are written).
pub fn frame<R, W>(read: R, write: W, max_line: usize) -> (LineGuard<R>, LineWriter, JoinHandle<()>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = tokio::spawn(write_lines(rx, write));
    let tx = PollSender::new(tx);
    (
        LineGuard {
            inner: BufReader::with_capacity(64 * 1024, read),
            max_line,
            line: Vec::new(),
            ready: Vec::new(),
            ready_pos: 0,
            over: None,
            answer: None,
            answers: tx.clone(),
            eof: false,
        },
        LineWriter {
            tx,
            pending: Vec::new(),
            scanned: 0,
        },
        task,
    )
}

async fn write_lines<W: AsyncWrite + Unpin>(mut rx: mpsc::Receiver<Vec<u8>>, mut out: W) {
    while let Some(line) = rx.recv().await {
        if let Err(e) = out.write_all(&line).await {
            tracing::warn!(error = %e, "cannot write to stdout; the client is gone");
            return;
        }
        if rx.is_empty()
            && let Err(e) = out.flush().await
        {
            tracing::warn!(error = %e, "cannot flush stdout; the client is gone");
            return;
        }
    }
    let _ = out.flush().await;
}

/// The writer rmcp writes its messages into: whole lines go to the writer task.
pub struct LineWriter {
    tx: PollSender<Vec<u8>>,
    /// Bytes written and not yet sent: at most one unfinished line after `scanned`.
    pending: Vec<u8>,
    /// `pending[..scanned]` holds no newline.
    scanned: usize,
}

impl LineWriter {
    /// Send every whole line of `pending` to the writer task.
    fn poll_send_lines(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let Some(at) = self.pending[self.scanned..]
                .iter()
                .position(|&b| b == b'\n')
            else {
                self.scanned = self.pending.len();
                return Poll::Ready(Ok(()));
            };
            let end = self.scanned + at + 1;
            ready!(self.tx.poll_reserve(cx)).map_err(|_| closed())?;
            let rest = self.pending.split_off(end);
            let line = std::mem::replace(&mut self.pending, rest);
            self.scanned = 0;
            self.tx.send_item(line).map_err(|_| closed())?;
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the stdout writer has stopped")
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_send_lines(cx))?;
        this.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_send_lines(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send_lines(cx))?;
        this.tx.close();
        Poll::Ready(Ok(()))
    }
}

/// The reader rmcp reads from: the lines of `R`, each whole and at most `max_line` bytes; a
/// longer line is dropped and answered with an error (see the module).
pub struct LineGuard<R> {
    inner: BufReader<R>,
    max_line: usize,
    /// The line being gathered (never over `max_line`).
    line: Vec<u8>,
    /// A whole line being handed out, from `ready_pos`.
    ready: Vec<u8>,
    ready_pos: usize,
    /// The oversized line being dropped.
    over: Option<Oversized>,
    /// An error answer waiting for room in the writer's queue.
    answer: Option<Vec<u8>>,
    answers: PollSender<Vec<u8>>,
    eof: bool,
}

struct Oversized {
    bytes: u64,
    scan: IdScan,
}

impl Oversized {
    fn start() -> Self {
        Self {
            bytes: 0,
            scan: IdScan::default(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        self.scan.feed(bytes);
    }

    /// The error answer, a whole line.
    fn answer(self, max_line: usize) -> Vec<u8> {
        let message_bytes = self.bytes.saturating_sub(1);
        tracing::warn!(
            bytes = message_bytes,
            limit = max_line,
            "a message over the line limit was dropped and answered with an error"
        );
        too_long(self.scan.id(), message_bytes, max_line)
    }
}

/// A JSON-RPC error response as one line: `id` stays `null` when it could not be read.
#[derive(Serialize)]
struct ErrorLine<'a> {
    jsonrpc: &'static str,
    id: Option<Value>,
    error: &'a ErrorData,
}

fn too_long(id: Option<Value>, bytes: u64, max_line: usize) -> Vec<u8> {
    let error = ErrorData::invalid_request(
        format!(
            "The message is {} bytes, over the limit of {} bytes ({} MiB) for one message on this connection; it was not read. A prompt may be up to 4 MB: name the files Codex should read in `files` instead of pasting them, and give images as workspace paths rather than data URLs.",
            bytes,
            max_line,
            max_line / (1024 * 1024)
        ),
        Some(json!({"limit_bytes": max_line, "bytes": bytes})),
    );
    let line = ErrorLine {
        jsonrpc: "2.0",
        id,
        error: &error,
    };
    let mut out = serde_json::to_vec(&line).unwrap_or_else(|_| {
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"message too long"}}"#
            .to_vec()
    });
    out.push(b'\n');
    out
}

impl<R: AsyncRead + Unpin> AsyncRead for LineGuard<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.answer.is_some() {
                // Wait for room in the writer's queue: reading stops meanwhile.
                let reserved = ready!(this.answers.poll_reserve(cx));
                if let Some(answer) = this.answer.take()
                    && reserved.is_ok()
                {
                    let _ = this.answers.send_item(answer);
                }
            }
            if this.ready_pos < this.ready.len() {
                let n = buf.remaining().min(this.ready.len() - this.ready_pos);
                buf.put_slice(&this.ready[this.ready_pos..this.ready_pos + n]);
                this.ready_pos += n;
                if this.ready_pos == this.ready.len() {
                    this.ready.clear();
                    this.ready_pos = 0;
                    // Do not keep a huge line's memory for good.
                    if this.ready.capacity() > 1024 * 1024 {
                        this.ready = Vec::new();
                    }
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let available = ready!(Pin::new(&mut this.inner).poll_fill_buf(cx))?;
            if available.is_empty() {
                this.eof = true;
                if let Some(over) = this.over.take() {
                    this.answer = Some(over.answer(this.max_line));
                } else {
                    // An unfinished last line, as it is (rmcp drops it).
                    std::mem::swap(&mut this.ready, &mut this.line);
                }
                continue;
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.map_or(available.len(), |at| at + 1);
            let chunk = &available[..take];
            let mut ended = None;
            if let Some(over) = this.over.as_mut() {
                over.feed(chunk);
                if newline.is_some() {
                    ended = this.over.take();
                }
            } else if this.line.len().saturating_add(take) > this.max_line {
                let mut over = Oversized::start();
                over.feed(&this.line);
                over.feed(chunk);
                this.line = Vec::new();
                if newline.is_some() {
                    ended = Some(over);
                } else {
                    this.over = Some(over);
                }
            } else {
                this.line.extend_from_slice(chunk);
                if newline.is_some() {
                    std::mem::swap(&mut this.ready, &mut this.line);
                    this.ready_pos = 0;
                }
            }
            Pin::new(&mut this.inner).consume(take);
            if let Some(over) = ended {
                this.answer = Some(over.answer(this.max_line));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tokio::io::AsyncReadExt;

    fn id_of(text: &str) -> Option<Value> {
        let mut s = IdScan::default();
        s.feed(text.as_bytes());
        let whole = s.id();
        // The same, a byte at a time: the result never depends on where the chunks end.
        let mut s = IdScan::default();
        for b in text.as_bytes() {
            s.feed(std::slice::from_ref(b));
        }
        assert_eq!(s.id(), whole, "{text}");
        whole
    }

    #[test]
    fn the_top_level_id_is_found_wherever_it_stands_and_nothing_else_is_taken_for_it() {
        let cases: &[(&str, Option<Value>)] = &[
            (r#"{"jsonrpc":"2.0","id":7,"method":"x"}"#, Some(json!(7))),
            (
                r#"{"method":"x","params":{"a":[1,{"b":"}"}]},"id":"abc"}"#,
                Some(json!("abc")),
            ),
            (r#" { "id" : -12 , "x" : 1 }"#, Some(json!(-12))),
            (r#"{"id":"a\"b\\","x":1}"#, Some(json!("a\"b\\"))),
            (r#"{"\u0069d":3}"#, Some(json!(3))),
            (r#"{"params":{"id":5},"method":"x"}"#, None),
            (r#"{"params":{"arguments":{"prompt":"\"id\":9"}}}"#, None),
            (r#"{"method":"notifications/x"}"#, None),
            (r#"{"idx":1,"id":2}"#, Some(json!(2))),
            (r#"{"x":"id","id":4}"#, Some(json!(4))),
            (r#"{"id":null}"#, None),
            (r#"{"id":{"a":1},"x":2}"#, None),
            (r#"{"id":[1],"y":{"id":3}}"#, None),
            (r#"[{"id":1}]"#, None),
            (r#""id""#, None),
            (r#"{"id":1.5e3}"#, Some(json!(1.5e3))),
            (r#"{"id":12"#, None),
            ("not json at all", None),
        ];
        for (text, want) in cases {
            assert_eq!(&id_of(text), want, "{text}");
        }
        let long = format!(r#"{{"id":"{}"}}"#, "x".repeat(1000));
        assert_eq!(id_of(&long), None);
    }

    /// Everything the reader hands on, and every line the writer task wrote.
    async fn run(input: Vec<u8>, max_line: usize) -> (Vec<u8>, Vec<Value>) {
        let (out, mut out_read) = tokio::io::duplex(1024);
        let (mut reader, writer, task) = frame(std::io::Cursor::new(input), out, max_line);
        let mut passed = Vec::new();
        // A small buffer, as a reader might use: lines are handed on in pieces.
        let mut buf = [0u8; 7];
        let collect = tokio::spawn(async move {
            let mut all = Vec::new();
            out_read.read_to_end(&mut all).await.unwrap();
            all
        });
        loop {
            let n = reader.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            passed.extend_from_slice(&buf[..n]);
        }
        drop(reader);
        drop(writer);
        task.await.unwrap();
        let written = collect.await.unwrap();
        let lines = written
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        (passed, lines)
    }

    #[tokio::test]
    async fn lines_up_to_the_limit_pass_whole_and_a_longer_one_is_answered_with_the_limit() {
        let max = 64;
        let fits = format!("{{\"id\":1,\"p\":\"{}\"}}\n", "a".repeat(max - 16));
        assert_eq!(fits.len(), max);
        let over = format!(
            "{{\"jsonrpc\":\"2.0\",\"params\":{{\"p\":\"{}\"}},\"id\":\"big\"}}\n",
            "b".repeat(500)
        );
        let no_id = format!("{{\"p\":\"{}\"}}\n", "c".repeat(100));
        let after = "{\"id\":2}\n";
        let input = [fits.as_str(), &over, &no_id, after, "tail"].concat();
        let (passed, answers) = run(input.into_bytes(), max).await;
        assert_eq!(
            String::from_utf8(passed).unwrap(),
            [fits.as_str(), after, "tail"].concat()
        );
        assert_eq!(answers.len(), 2, "{answers:?}");
        let a = &answers[0];
        assert_eq!(a["jsonrpc"], "2.0");
        assert_eq!(a["id"], "big");
        assert_eq!(a["error"]["code"], -32600);
        assert_eq!(a["error"]["data"]["limit_bytes"], max);
        assert_eq!(a["error"]["data"]["bytes"], over.len() - 1);
        let msg = a["error"]["message"].as_str().unwrap();
        assert!(msg.contains("over the limit of 64 bytes"), "{msg}");
        let b = &answers[1];
        assert!(b.get("id").is_some_and(Value::is_null), "{b}");
        assert_eq!(b["error"]["data"]["bytes"], no_id.len() - 1);
    }

    #[tokio::test]
    async fn an_oversized_last_line_without_its_newline_is_answered_too() {
        let input = format!("{{\"id\":3,\"p\":\"{}\"}}", "d".repeat(200));
        let (passed, answers) = run(input.into_bytes(), 32).await;
        assert!(passed.is_empty());
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["id"], 3);
    }

    #[tokio::test]
    async fn the_writer_hands_on_whole_lines_only() {
        let (out, mut out_read) = tokio::io::duplex(1 << 16);
        let (reader, mut writer, task) = frame(tokio::io::empty(), out, 64);
        writer.write_all(b"{\"a\":").await.unwrap();
        writer.flush().await.unwrap();
        writer.write_all(b"1}\n{\"b\":2}\n{\"c\"").await.unwrap();
        writer.write_all(b":3}\n").await.unwrap();
        writer.shutdown().await.unwrap();
        drop(writer);
        drop(reader);
        task.await.unwrap();
        let mut all = String::new();
        out_read.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
    }
}
