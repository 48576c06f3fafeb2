//! Hostile input to the real bridge gets an answer and bounded resources: a request line over the
//! transport's limit, arguments past the tools' schema limits, and an image bomb (a small file that
//! claims a huge canvas), measured as the bridge's peak RSS.

use base64::Engine;
use serde_json::{Value, json};

use crate::bridge_faults::{Raw, tool_text};
use crate::support::*;

/// rmcp's (and so the bridge's) limit on one message line, its newline included.
const LINE_LIMIT: usize = 16 * 1024 * 1024;

/// A `tools/call` of `codex_query` whose line (its newline included) is exactly `len` bytes, with
/// `id` (if any) after the arguments, where only a scan of the whole line finds it.
fn call_line_of(len: usize, id: Option<i64>) -> String {
    let head = r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"codex_query","arguments":{"prompt":""#;
    let tail = match id {
        Some(id) => format!(r#""}}}},"id":{id}}}"#),
        None => r#""}}}"#.to_owned(),
    };
    let pad = len - 1 - head.len() - tail.len();
    let line = format!("{head}{}{tail}", "x".repeat(pad));
    assert_eq!(line.len() + 1, len);
    serde_json::from_str::<Value>(&line).expect("the line is valid JSON");
    line
}

#[tokio::test]
async fn a_request_line_over_the_transport_limit_is_answered_with_the_limit_and_the_next_is_served()
{
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let mut b = Raw::spawn(&home);

    // 20 MB, the id at the very end: an error that names the limit, for that id.
    b.send_line(&call_line_of(20_000_000, Some(41)));
    let a = b.answer(41);
    assert_eq!(a["error"]["code"], -32600, "{a}");
    assert_eq!(a["error"]["data"]["limit_bytes"], LINE_LIMIT, "{a}");
    assert_eq!(a["error"]["data"]["bytes"], 20_000_000 - 1, "{a}");
    let message = a["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("over the limit of 16777216 bytes (16 MiB)"),
        "{message}"
    );
    // The next request is served.
    b.send_line(&json!({"jsonrpc": "2.0", "id": 42, "method": "tools/list"}).to_string());
    let a = b.answer(42);
    assert!(!a["result"]["tools"].as_array().unwrap().is_empty(), "{a}");

    // Without an id anywhere in it: answered with a null id.
    b.send_line(&call_line_of(LINE_LIMIT + 1000, None));
    let a = b.next();
    assert!(a.get("id").is_some_and(Value::is_null), "{a}");
    assert_eq!(a["error"]["code"], -32600, "{a}");

    // At the limit exactly, the line is read and the tool answers (a prompt over 4 MB is
    // refused); one byte more, and the transport's error answers instead: prompts over 4 MB are
    // refused at every size.
    b.send_line(&call_line_of(LINE_LIMIT, Some(43)));
    let a = b.answer(43);
    assert_eq!(a["result"]["isError"], true, "{a}");
    assert_eq!(a["result"]["structuredContent"]["kind"], "prompt_too_large");
    b.send_line(&call_line_of(LINE_LIMIT + 1, Some(44)));
    let a = b.answer(44);
    assert_eq!(a["error"]["data"]["bytes"], LINE_LIMIT, "{a}");
    b.send_line(&json!({"jsonrpc": "2.0", "id": 45, "method": "tools/list"}).to_string());
    assert!(b.answer(45).get("result").is_some());

    assert_eq!(fake.stats().responses, 0, "nothing reached the backend");
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The JSON-RPC error message of answer `a` (which must be one).
fn error_message(a: &Value) -> String {
    assert_eq!(a["error"]["code"], -32602, "{a}");
    a["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_tools_schema_limits_are_enforced_naming_the_argument_and_the_limit_and_echoes_are_cut()
{
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let mut b = Raw::spawn(&home);
    // The limits are those the tools advertise.
    b.send_line(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string());
    let tools = b.answer(1)["result"]["tools"].clone();
    let query = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "codex_query")
        .unwrap()["inputSchema"]["properties"]
        .clone();
    assert_eq!(query["files"]["maxItems"], 200, "{query}");
    assert_eq!(query["images"]["maxItems"], 10, "{query}");
    assert_eq!(query["conversation_id"]["maxLength"], 64, "{query}");

    let files: Vec<String> = (0..201).map(|i| format!("src/f{i}.rs")).collect();
    let m = error_message(&b.call(2, "codex_query", json!({"prompt": "q", "files": files})));
    assert_eq!(
        m, "invalid argument `files`: 201 entries, over the limit of 200",
        "{m}"
    );
    let images: Vec<String> = (0..11).map(|i| format!("shot{i}.png")).collect();
    let m = error_message(&b.call(
        3,
        "codex_query",
        json!({"prompt": "q", "images": images, "model": "gpt-5.5"}),
    ));
    assert_eq!(
        m,
        "invalid argument `images`: 11 entries, over the limit of 10"
    );
    let long_id = "c".repeat(100_000);
    let m = error_message(&b.call(
        4,
        "codex_query",
        json!({"prompt": "q", "conversation_id": long_id}),
    ));
    assert_eq!(
        m,
        "invalid argument `conversation_id`: 100000 characters, over the limit of 64"
    );
    let m = error_message(&b.call(
        5,
        "codex_query",
        json!({"prompt": "q", "files": ["a.rs", "p".repeat(5000)]}),
    ));
    assert_eq!(
        m,
        "invalid argument `files[1]`: 5000 characters, over the limit of 4096"
    );
    let paths: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
    let m = error_message(&b.call(6, "codex_review", json!({"paths": paths})));
    assert_eq!(
        m,
        "invalid argument `paths`: 101 entries, over the limit of 100"
    );
    let m = error_message(&b.call(7, "codex_usage", json!({"account": "a".repeat(65)})));
    assert_eq!(
        m,
        "invalid argument `account`: 65 characters, over the limit of 64"
    );
    let m = error_message(&b.call(8, "codex_query", json!({"prompt": ""})));
    assert_eq!(m, "invalid argument `prompt`: must not be empty");
    let m = error_message(&b.call(
        9,
        "codex_query",
        json!({"prompt": "q", "max_output_chars": 0}),
    ));
    assert!(m.contains("`max_output_chars`") && m.contains('1'), "{m}");

    // What serde repeats of a bad value is cut short too.
    let pigeon = format!("carrier-pigeon-{}", "z".repeat(100_000));
    let m = error_message(&b.call(10, "codex_login", json!({"method": pigeon})));
    assert!(m.contains("carrier-pigeon-zzz") && m.contains('…'), "{m}");
    assert!(m.len() < 300, "{} bytes: {m:.300}", m.len());
    let m = error_message(&b.call(
        11,
        "codex_query",
        json!({"prompt": "q", "max_output_chars": "9".repeat(100_000)}),
    ));
    assert!(m.len() < 300, "{} bytes: {m:.300}", m.len());

    // An unknown conversation_id within the limit is echoed a few dozen characters long.
    let unknown = format!("0190a8e2-1c3b-7def-8abc-{}", "e".repeat(40));
    assert_eq!(unknown.len(), 64);
    let a = b.call(
        12,
        "codex_query",
        json!({"prompt": "q", "conversation_id": unknown}),
    );
    assert_eq!(a["result"]["isError"], true, "{a}");
    let t = tool_text(&a);
    assert!(t.contains(&format!("`{}…`", &unknown[..40])), "{t}");
    assert!(!t.contains(&unknown), "{t}");

    // So are an unknown account and an image that is not there.
    let account = format!("no-such-account-{}", "a".repeat(40));
    let t = tool_text(&b.call(13, "codex_usage", json!({"account": account})));
    assert!(
        t.contains(&format!("`{}…`", &account[..40])) && !t.contains(&account),
        "{t}"
    );
    let image = format!("{}.png", "i".repeat(300));
    let a = b.call(
        14,
        "codex_query",
        json!({"prompt": "q", "images": [image], "model": "gpt-5.5"}),
    );
    let t = tool_text(&a);
    assert!(
        t.contains(&format!("{}…: ", &image[..40])) && !t.contains(&image),
        "{t}"
    );
    // A system prompt over 4 MB is refused as a prompt is.
    let a = b.call(
        15,
        "codex_query",
        json!({"prompt": "q", "system_prompt": "s".repeat(5 * 1024 * 1024)}),
    );
    assert_eq!(
        a["result"]["structuredContent"]["kind"], "prompt_too_large",
        "{a:.300}"
    );
    assert!(
        tool_text(&a).starts_with("The system prompt is 5 MB"),
        "{a:.300}"
    );

    assert_eq!(fake.stats().responses, 0, "nothing reached the backend");
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
}

/// The bridge's peak resident memory so far (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// A PNG of `w`×`h` black RGB pixels: a zlib stream of fixed-Huffman runs of zeros (258 bytes in
/// 13 bits), so 11000×11000 pixels (363 MB decoded) take about 2.3 MB.
fn zeros_png(w: u32, h: u32) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        /// `len` bits of `v`, least significant first (deflate's order for everything but
        /// Huffman codes).
        fn put(&mut self, v: u64, len: u32) {
            self.acc |= v << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code of `len` bits, most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            let mut rev = 0;
            for i in 0..len {
                rev |= ((code >> i) & 1) << (len - 1 - i);
            }
            self.put(rev, len);
        }
    }
    let raw = u64::from(h) * (1 + 3 * u64::from(w));
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // the last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    let mut left = raw - 1;
    while left >= 258 {
        bits.code(0b1100_0101, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.out.push(bits.acc as u8); // the last bits, to a byte boundary
    }
    let mut zlib = bits.out;
    let adler = ((raw % 65_521) << 16) | 1;
    zlib.extend_from_slice(&(adler as u32).to_be_bytes());

    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Send the calls of `codex_query` with `args` at once, ids from `first`; their answers, in order
/// (they may come in any order).
fn all_at_once(b: &mut Raw, first: i64, args: &[Value]) -> Vec<Value> {
    for (i, args) in args.iter().enumerate() {
        b.send_line(
            &json!({"jsonrpc": "2.0", "id": first + i as i64, "method": "tools/call",
                "params": {"name": "codex_query", "arguments": args}})
            .to_string(),
        );
    }
    let mut answers: Vec<Option<Value>> = vec![None; args.len()];
    while answers.iter().any(Option::is_none) {
        let v = b.next();
        let slot = v["id"]
            .as_i64()
            .and_then(|id| usize::try_from(id - first).ok())
            .and_then(|i| answers.get_mut(i));
        match slot {
            Some(slot) => *slot = Some(v),
            None => assert!(v.get("method").is_some(), "unexpected message {v}"),
        }
    }
    answers.into_iter().flatten().collect()
}

#[tokio::test]
async fn an_image_bomb_is_refused_by_its_header_and_large_images_at_once_stay_under_300_mb() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 3600).await;
    let ws = tempfile::tempdir().unwrap();
    let bomb = zeros_png(11_000, 11_000);
    assert!(bomb.len() < 3_000_000, "{} bytes", bomb.len());
    std::fs::write(ws.path().join("bomb.png"), &bomb).unwrap();
    // Just under the 40 megapixels: decoded (118 MB of pixels) and scaled down.
    std::fs::write(ws.path().join("large.png"), zeros_png(7900, 5000)).unwrap();
    let mut cmd = home.cmd(&bin("codex-mcp-bridge"));
    cmd.current_dir(ws.path());
    let mut b = Raw::spawn_cmd(cmd);

    // Three calls at once, each with the bomb as a file and as a data URL: refused by the
    // header, before any decoding.
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bomb)
    );
    let bombs = json!({"prompt": "q", "images": ["bomb.png", url], "model": "gpt-5.5"});
    for a in all_at_once(&mut b, 1, &[bombs.clone(), bombs.clone(), bombs]) {
        assert_eq!(a["result"]["isError"], true, "{a}");
        let t = tool_text(&a);
        for source in ["bomb.png", "data URL #2"] {
            assert!(
                t.contains(&format!(
                    "{source}: 11000×11000 pixels (121 megapixels): over the 40 megapixels"
                )),
                "{t}"
            );
        }
    }
    assert_eq!(fake.stats().responses, 0, "the bomb reached the backend");

    // Two large images at once: each decoded and scaled in turn, within the budget (so the bomb
    // above is a real PNG too, made the same way).
    let large = json!({"prompt": "q", "images": ["large.png"], "model": "gpt-5.5"});
    for a in all_at_once(&mut b, 4, &[large.clone(), large]) {
        assert_ne!(a["result"]["isError"], true, "{a}");
        let sent = &a["result"]["structuredContent"]["images"][0];
        assert_eq!(
            (&sent["width"], &sent["height"], &sent["downscaled"]),
            (&json!(2048), &json!(1296), &json!(true)),
            "{a}"
        );
    }
    let peak = peak_rss(b.pid());
    // The figure, for `--no-capture`.
    eprintln!("the bridge's peak RSS: {} MB", peak / (1024 * 1024));
    assert!(
        peak < 300 * 1024 * 1024,
        "the bridge's peak RSS was {} MB",
        peak / (1024 * 1024)
    );
    let (code, err) = b.finish();
    assert_eq!(code, Some(0), "{err}");
}
