//! `state.json` (`store::State`) on any bytes, as `Store::state` reads it.
//!
//! Beyond "no panic": a state that parses writes out and reads back equal (unknown fields kept),
//! and its second write is byte-for-byte the first.
#![no_main]

use codex_oauth_core::store::State;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = serde_json::from_slice::<State>(data) else {
        return;
    };
    let json = serde_json::to_vec_pretty(&state).expect("a state writes out");
    let back: State = serde_json::from_slice(&json).expect("what we write, we read");
    let again = serde_json::to_vec_pretty(&back).expect("writes out");
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&json),
        "not stable"
    );
    assert_eq!(back, state);
});
