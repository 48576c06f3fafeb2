//! The answer stream parser (`codex::read_chunks`, i.e. `read_answer` over eventsource-stream) on
//! any bytes, cut into chunks of fuzzer-chosen sizes as a network would.
//!
//! Beyond "no panic": the chunking changes nothing (the same outcome or the same error, the same
//! deltas); an answer that ended well is exactly the deltas handed on, in order.
#![no_main]

use std::sync::OnceLock;

use codex_oauth_core::codex::{StreamOutcome, read_chunks};
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

/// The outcome, with its rate limits reduced to whether there were any: they carry the time
/// they were read (and times relative to it), which differs between two reads.
fn read(chunks: Vec<Vec<u8>>) -> (Result<(StreamOutcome, bool), String>, Vec<String>) {
    let (r, deltas) = runtime().block_on(read_chunks(chunks));
    let r = r.map(|mut out| {
        let limits = out.rate_limits.take().is_some();
        (out, limits)
    });
    (r.map_err(|e| e.to_string()), deltas)
}

fuzz_target!(|data: &[u8]| {
    // The first byte says how many chunk sizes follow (0-15); the rest is the stream.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 16).min(rest.len());
    let (sizes, body) = rest.split_at(n);
    let mut chunks = Vec::new();
    let mut at = 0;
    for i in 0.. {
        if at >= body.len() || sizes.is_empty() {
            break;
        }
        let size = usize::from(sizes[i % sizes.len()]) + 1;
        let end = (at + size).min(body.len());
        chunks.push(body[at..end].to_vec());
        at = end;
    }
    if sizes.is_empty() {
        chunks.push(body.to_vec());
    }
    let whole = read(vec![body.to_vec()]);
    let cut = read(chunks);
    assert_eq!(whole, cut, "the chunking changed the outcome");
    if let (Ok((out, _)), deltas) = &whole {
        assert_eq!(out.text, deltas.concat(), "the answer is not the deltas");
    }
});
