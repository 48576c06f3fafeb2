//! Writers killed with SIGKILL at random moments never leave a torn or unreadable record.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use codex_oauth_core::store::AuthRecord;
use rand::Rng;

use crate::support::*;

#[tokio::test]
async fn two_hundred_writers_killed_at_random_leave_old_or_new_never_half() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let make = |ttl| {
        let t = fake.mint_tokens(ttl);
        AuthRecord::from_tokens(
            t.id_token.into(),
            t.access_token.into(),
            t.refresh_token.into(),
            None,
        )
    };
    let (a, b) = (make(3600), make(7200));
    let files = tempfile::tempdir().unwrap();
    let (pa, pb) = (files.path().join("a.json"), files.path().join("b.json"));
    std::fs::write(&pa, a.to_json().unwrap()).unwrap();
    std::fs::write(&pb, b.to_json().unwrap()).unwrap();
    let auth = home.profile_dir().join("auth.json");
    let mut rng = rand::thread_rng();
    for round in 0..200 {
        // umask 000: the files must still be private.
        let mut c = home.cmd(std::path::Path::new("/bin/sh"));
        c.arg("-c")
            .arg("umask 000; exec \"$0\" \"$1\" \"$2\"")
            .arg(own_bin("store-writer"))
            .arg(&pa)
            .arg(&pb)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it complete a random number of saves, then kill it somewhere inside the next ones.
        let saves = rng.gen_range(1..4);
        for _ in 0..saves {
            lines.next().unwrap().unwrap();
        }
        for _ in 0..rng.gen_range(0..20_000) {
            std::hint::spin_loop();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let bytes = std::fs::read(&auth)
            .unwrap_or_else(|e| panic!("round {round}: auth.json unreadable: {e}"));
        let got = AuthRecord::from_json(&bytes)
            .unwrap_or_else(|e| panic!("round {round}: torn record: {e}"));
        assert!(
            got == a || got == b,
            "round {round}: a record that is neither old nor new"
        );
        assert_eq!(
            std::fs::metadata(&auth).unwrap().permissions().mode() & 0o777,
            0o600,
            "round {round}"
        );
        assert_eq!(
            std::fs::metadata(home.profile_dir())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let state = std::fs::read(home.profile_dir().join("state.json")).unwrap();
        serde_json::from_slice::<serde_json::Value>(&state)
            .unwrap_or_else(|e| panic!("round {round}: torn state.json: {e}"));
    }
    // Killed writers may leave their temp files behind, but never readable by others.
    for e in std::fs::read_dir(home.profile_dir()).unwrap() {
        let e = e.unwrap();
        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{:?} is {mode:o}", e.file_name());
    }
}
