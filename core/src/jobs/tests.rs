#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use super::*;
use crate::config::Settings;
use crate::error::ErrorCode;

fn store() -> (tempfile::TempDir, JobStore) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::for_home(dir.path()).unwrap();
    (dir, JobStore::open(&settings))
}

fn new_job(title: &str) -> NewJob {
    NewJob {
        tool: "codex_query".into(),
        title: title.into(),
        request: serde_json::json!({"prompt": title}),
        timeout: Duration::from_secs(60),
    }
}

#[test]
fn a_job_runs_then_ends_with_its_result_and_is_listed_newest_first() {
    let (_d, jobs) = store();
    let a = jobs.create(new_job("first")).unwrap();
    jobs.set_runner(&a.id, this_process()).unwrap();
    let b = jobs.create(new_job("second")).unwrap();
    jobs.set_runner(&b.id, this_process()).unwrap();
    assert_eq!(jobs.request(&a.id).unwrap()["prompt"], "first");
    let result = serde_json::json!({"content": [{"type": "text", "text": "done"}]});
    let ended = jobs
        .finish(&a.id, JobState::Completed, Some(&result), None)
        .unwrap();
    assert_eq!(ended.state, JobState::Completed);
    assert_eq!(jobs.result(&a.id).unwrap().unwrap(), result);
    // A second end does not overwrite the first.
    let again = jobs
        .finish(&a.id, JobState::Failed, None, Some(cancelled_error()))
        .unwrap();
    assert_eq!(again.state, JobState::Completed);
    let listed: Vec<_> = jobs.list().unwrap().into_iter().map(|j| j.title).collect();
    assert_eq!(listed, ["second", "first"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = jobs.dir().join(&a.id);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        for f in ["job.json", "request.json", "result.json"] {
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
}

#[test]
fn a_fifth_running_job_is_refused_and_an_ended_one_makes_room() {
    let (_d, jobs) = store();
    let ids: Vec<_> = (0..MAX_RUNNING)
        .map(|i| {
            let j = jobs.create(new_job(&format!("j{i}"))).unwrap();
            jobs.set_runner(&j.id, this_process()).unwrap();
            j.id
        })
        .collect();
    let e = jobs.create(new_job("one too many")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooManyJobs, "{e}");
    assert!(e.to_string().contains("at most 4"), "{e}");
    jobs.finish(&ids[0], JobState::Completed, None, None)
        .unwrap();
    jobs.create(new_job("now there is room")).unwrap();
}

#[test]
fn a_job_whose_runner_is_gone_is_recorded_failed_by_the_next_reader() {
    let (_d, jobs) = store();
    let j = jobs.create(new_job("orphan")).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    jobs.set_runner(&j.id, Runner { pid, started: None })
        .unwrap();
    let seen = jobs.get(&j.id).unwrap().unwrap();
    assert_eq!(seen.state, JobState::Failed);
    let error = seen.error.unwrap();
    assert_eq!(error.code, ErrorCode::JobStopped);
    assert!(
        error.message.contains("process stopped"),
        "{}",
        error.message
    );
    // Recorded, not only shown: the file says so.
    let listed = jobs.list().unwrap();
    assert_eq!(listed[0].state, JobState::Failed);
}

#[test]
fn a_cancel_is_marked_for_a_live_runner_and_recorded_for_a_gone_one() {
    let (_d, jobs) = store();
    let live = jobs.create(new_job("live")).unwrap();
    jobs.set_runner(&live.id, this_process()).unwrap();
    let j = jobs.request_cancel(&live.id).unwrap();
    assert_eq!(
        j.state,
        JobState::Running,
        "the runner records the cancel itself"
    );
    assert!(jobs.cancel_requested(&live.id));
    let gone = jobs.create(new_job("gone")).unwrap();
    jobs.set_runner(
        &gone.id,
        Runner {
            pid: u32::MAX - 1,
            started: None,
        },
    )
    .unwrap();
    let j = jobs.request_cancel(&gone.id).unwrap();
    assert_eq!(j.state, JobState::Cancelled);
}

#[test]
fn unknown_and_malformed_ids_are_told_apart_from_errors() {
    let (_d, jobs) = store();
    assert!(jobs.get("../../etc").unwrap().is_none());
    assert!(
        jobs.get(&uuid::Uuid::now_v7().to_string())
            .unwrap()
            .is_none()
    );
    let e = jobs.request_cancel("nope").unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownJob);
}

#[test]
fn only_the_newest_jobs_are_kept() {
    let (_d, jobs) = store();
    for i in 0..KEEP_JOBS + 3 {
        let j = jobs.create(new_job(&format!("j{i}"))).unwrap();
        jobs.finish(&j.id, JobState::Completed, None, None).unwrap();
    }
    let kept = jobs.list().unwrap();
    assert_eq!(kept.len(), KEEP_JOBS);
    assert_eq!(kept[0].title, format!("j{}", KEEP_JOBS + 2));
    assert!(kept.iter().all(|j| j.title != "j0" && j.title != "j2"));
}
