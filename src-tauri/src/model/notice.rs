//! Desktop notifications due between two snapshots: sign-in done, session expired, and usage
//! passing the `usage_alerts` thresholds, for each account; naming the account when there are
//! several.

use std::borrow::Cow;

use codex_oauth_core::Status;
use codex_oauth_core::model::Remaining;

use codex_oauth_core::jobs::JobState;

use super::snapshot::{AccountSnapshot, Snapshot};

/// A desktop notification worth sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// "ada@example.com", or with several accounts "ada@example.com (profile work)".
fn who(s: &Status, several: bool) -> String {
    let who = if s.is_api_key() {
        "an API key"
    } else {
        s.who()
    };
    if several {
        format!("{who} (profile {})", s.profile)
    } else {
        who.to_owned()
    }
}

/// A notification about the usage of an account, when one is due between two of its statuses:
/// once when the effective remaining crosses one of `alerts` (percent used; the highest one
/// crossed), and once when a limit that had run out has reset. `several`: there is more than one
/// account, so the notice says which.
pub fn usage_notice(prev: &Status, next: &Status, alerts: &[u8], several: bool) -> Option<Notice> {
    let (before, after) = (prev.remaining()?, next.remaining()?);
    if before.blocked && !after.blocked {
        let with = if several {
            format!(" with {}", who(next, true))
        } else {
            String::new()
        };
        return Some(Notice {
            title: "Codex limit reset".into(),
            body: format!("Codex can be used again{with}: {}.", after.describe()),
        });
    }
    let used = |r: &Remaining| 100.0 - r.percent_left;
    let crossed = alerts
        .iter()
        .rev()
        .find(|t| used(before) < f64::from(**t) && used(after) >= f64::from(**t))?;
    Some(Notice {
        title: format!("Codex usage past {crossed}%"),
        body: format!("{}: {}.", who(next, several), after.describe()),
    })
}

/// A notification about a sign-in of an account between two of its statuses.
pub fn notice(prev: &Status, next: &Status, several: bool) -> Option<Notice> {
    // A keychain that could be read again is not a new sign-in.
    if !prev.signed_in && !prev.unreadable && next.signed_in {
        let plan = next
            .plan_label()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let body = if next.is_api_key() {
            let profile = if several {
                format!(" in profile {}", next.profile)
            } else {
                String::new()
            };
            format!("codex-oauth is signed in with an API key{profile}.")
        } else {
            format!("codex-oauth is signed in as {}{plan}.", who(next, several))
        };
        return Some(Notice {
            title: "Signed in".into(),
            body,
        });
    }
    if prev.signed_in && next.session_expired() {
        let whose = if several {
            format!(" of {}", who(prev, true))
        } else {
            String::new()
        };
        return Some(Notice {
            title: "Session expired — sign in again".into(),
            body: format!(
                "The ChatGPT session{whose} ended. Open codex-oauth from the tray and sign in again."
            ),
        });
    }
    None
}

/// A notification for each background job that ended between two snapshots of an account:
/// one that was running before, or one that started and ended in between. The jobs of an account
/// seen for the first time (the app's start, a new profile) are not news.
fn job_notices(
    prev: Option<&AccountSnapshot>,
    next: &AccountSnapshot,
    several: bool,
) -> Vec<Notice> {
    let Some(prev) = prev else {
        return Vec::new();
    };
    next.jobs
        .iter()
        .filter(|j| j.state.ended())
        .filter(|j| {
            prev.jobs
                .iter()
                .find(|p| p.id == j.id)
                .is_none_or(|p| p.state == JobState::Running)
        })
        .filter_map(|j| {
            let title = match j.state {
                JobState::Completed => "Codex job done",
                JobState::Failed => "Codex job failed",
                // The user cancelled it: they know.
                _ => return None,
            };
            let whose = if several {
                format!(" (profile {})", next.profile())
            } else {
                String::new()
            };
            Some(Notice {
                title: title.into(),
                body: format!("{}{whose}: {}", j.tool, j.title),
            })
        })
        .collect()
}

/// Every notification due between two snapshots, one account after another. An account new in
/// `next` counts as signed out before (a sign-in by another process in a new profile).
pub fn notices(prev: &Snapshot, next: &Snapshot, alerts: &[u8]) -> Vec<Notice> {
    let several = next.accounts.len() > 1;
    let jobs = next
        .accounts
        .iter()
        .flat_map(|a| job_notices(prev.account(a.profile()), a, several));
    next.accounts
        .iter()
        .filter_map(|a| {
            let now = &a.status;
            let before = prev.account(a.profile()).map_or_else(
                || Cow::Owned(Status::signed_out(&now.profile, now.store.mode)),
                |p| Cow::Borrowed(&p.status),
            );
            notice(&before, now, several).or_else(|| {
                // The same account only: a sign-in of another one is not a usage change.
                (before.account_id == now.account_id)
                    .then(|| usage_notice(&before, now, alerts, several))
                    .flatten()
            })
        })
        .chain(jobs)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::fixtures::{
        api_key, expired, named, several, signed_in, signed_out, snap, with_left,
    };

    #[test]
    fn notices_for_sign_in_and_for_an_expired_session_only() {
        let n = notice(&signed_out(), &signed_in(60), false).unwrap();
        assert_eq!(n.title, "Signed in");
        assert_eq!(
            n.body,
            "codex-oauth is signed in as ada@example.com (Plus)."
        );

        let n = notice(&signed_in(60), &expired(), false).unwrap();
        assert_eq!(n.title, "Session expired — sign in again");
        assert_eq!(
            n.body,
            "The ChatGPT session ended. Open codex-oauth from the tray and sign in again."
        );

        // A deliberate sign-out, a refresh, or nothing new: no notification.
        assert_eq!(notice(&signed_in(60), &signed_out(), false), None);
        assert_eq!(notice(&signed_in(10), &signed_in(60), false), None);
        assert_eq!(notice(&signed_out(), &signed_out(), false), None);
    }

    #[test]
    fn a_keychain_read_again_after_it_was_locked_is_no_new_sign_in() {
        let mut locked = signed_out();
        locked.unreadable = true;
        locked.last_error = Some("the keychain is locked or refused access: locked".into());
        assert_eq!(notice(&signed_in(60), &locked, false), None);
        assert_eq!(notice(&locked, &signed_in(60), false), None);
        assert_eq!(locked.headline(), "Cannot read the stored sign-in");
    }

    #[test]
    fn usage_notices_come_once_per_threshold_crossed_and_when_a_limit_resets() {
        let alerts = [80, 95];
        let left = |p| with_left(signed_in(60), p);
        assert_eq!(usage_notice(&left(30.0), &left(25.0), &alerts, false), None);
        let n = usage_notice(&left(25.0), &left(19.0), &alerts, false).unwrap();
        assert_eq!(n.title, "Codex usage past 80%");
        assert!(
            n.body.starts_with("ada@example.com: 19% left"),
            "{}",
            n.body
        );
        // Already past 80: only the next threshold counts, once.
        assert_eq!(usage_notice(&left(19.0), &left(10.0), &alerts, false), None);
        let n = usage_notice(&left(19.0), &left(2.0), &alerts, false).unwrap();
        assert_eq!(n.title, "Codex usage past 95%");
        // Both at once: the higher one.
        let n = usage_notice(&left(50.0), &left(0.0), &alerts, false).unwrap();
        assert_eq!(n.title, "Codex usage past 95%");
        let n = usage_notice(&left(0.0), &left(100.0), &alerts, false).unwrap();
        assert_eq!(n.title, "Codex limit reset");
        assert!(
            n.body.starts_with("Codex can be used again: "),
            "{}",
            n.body
        );
        assert_eq!(usage_notice(&left(40.0), &left(1.0), &[], false), None);
        assert_eq!(
            usage_notice(&signed_in(60), &left(1.0), &alerts, false),
            None
        );
    }

    #[test]
    fn with_several_accounts_each_notice_says_which_account() {
        let alerts = [80, 95];
        let work = |p| {
            let mut s = named("work", with_left(signed_in(60), p));
            s.email = Some("bob@example.com".into());
            s.account_id = Some("acc-2".into());
            s
        };
        let prev = several("default", vec![with_left(signed_in(60), 50.0), work(25.0)]);
        let next = several("default", vec![with_left(signed_in(60), 48.0), work(19.0)]);
        let all = notices(&prev, &next, &alerts);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].title, "Codex usage past 80%");
        assert!(
            all[0]
                .body
                .starts_with("bob@example.com (profile work): 19% left"),
            "{}",
            all[0].body
        );
        let reset = notices(
            &several("default", vec![signed_out(), work(0.0)]),
            &several("default", vec![signed_out(), work(100.0)]),
            &alerts,
        );
        assert!(
            reset[0]
                .body
                .starts_with("Codex can be used again with bob@example.com (profile work): "),
            "{}",
            reset[0].body
        );
        let expired = notices(
            &several("default", vec![signed_out(), work(50.0)]),
            &several("default", vec![signed_out(), named("work", expired())]),
            &alerts,
        );
        assert_eq!(expired[0].title, "Session expired — sign in again");
        assert!(
            expired[0]
                .body
                .starts_with("The ChatGPT session of bob@example.com (profile work) ended."),
            "{}",
            expired[0].body
        );
    }

    #[test]
    fn an_account_that_appears_signed_in_is_announced_and_one_that_goes_is_not() {
        let prev = snap(signed_in(60));
        let next = several("default", vec![signed_in(60), api_key("work")]);
        let all = notices(&prev, &next, &[80]);
        assert_eq!(
            all,
            [Notice {
                title: "Signed in".into(),
                body: "codex-oauth is signed in with an API key in profile work.".into(),
            }]
        );
        assert_eq!(notices(&next, &prev, &[80]), []);
        assert_eq!(notices(&next, &next, &[80]), []);
    }

    #[test]
    fn another_account_signing_in_in_a_profile_is_no_usage_change() {
        let mut other = with_left(signed_in(60), 1.0);
        other.account_id = Some("acc-9".into());
        let all = notices(
            &snap(with_left(signed_in(60), 50.0)),
            &snap(other),
            &[80, 95],
        );
        assert_eq!(all, []);
    }

    fn job(id: &str, state: JobState) -> crate::model::JobSummary {
        crate::model::JobSummary {
            id: id.into(),
            tool: "codex_review".into(),
            title: format!("review {id}"),
            state,
            started_at: crate::model::fixtures::now(),
            ended_at: state.ended().then(crate::model::fixtures::now),
        }
    }

    #[test]
    fn a_job_that_ends_is_told_once_with_its_title_and_a_cancel_or_an_old_job_is_not() {
        let mut before = snap(signed_in(60));
        before.accounts[0].jobs = vec![job("a", JobState::Running), job("old", JobState::Failed)];
        let mut after = before.clone();
        after.accounts[0].jobs = vec![
            job("c", JobState::Completed),
            job("b", JobState::Cancelled),
            job("a", JobState::Failed),
            job("old", JobState::Failed),
        ];
        let n = notices(&before, &after, &[]);
        assert_eq!(
            n,
            vec![
                Notice {
                    title: "Codex job done".into(),
                    body: "codex_review: review c".into()
                },
                Notice {
                    title: "Codex job failed".into(),
                    body: "codex_review: review a".into()
                },
            ]
        );
        assert!(notices(&after, &after, &[]).is_empty(), "told once");
    }
}
