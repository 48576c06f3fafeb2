//! Whether a job's runner process is still there: its pid answers and is the same process (its
//! start time matches, so a pid reused by another process does not count), and it is not a
//! zombie waiting to be reaped.

use super::record::Runner;

/// The start time of process `pid` as the system counts it (Linux: clock ticks since boot, the
/// 22nd field of `/proc/<pid>/stat`); `None` where that cannot be read.
pub fn process_start(pid: u32) -> Option<u64> {
    stat_fields(pid).and_then(|(_, start)| start)
}

/// The state letter and start time of `pid` from `/proc/<pid>/stat` (Linux only).
fn stat_fields(pid: u32) -> Option<(char, Option<u64>)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // After the state come ppid, pgrp, … : the start time is the 20th field after the state.
    let start = fields.nth(18).and_then(|f| f.parse().ok());
    Some((state, start))
}

/// The process of this program (for a runner to name itself).
pub fn this_process() -> Runner {
    let pid = std::process::id();
    Runner {
        pid,
        started: process_start(pid),
    }
}

/// Make `cmd` start a runner that outlives this process: in a session of its own (no terminal,
/// no signal meant for this process's group), with no stdin, stdout or stderr.
pub fn detach(cmd: &mut std::process::Command) {
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        #[allow(unsafe_code)]
        // SAFETY: the closure runs in the child between fork and exec, and calls only setsid(2),
        // which is async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// Whether `runner` is alive.
pub fn alive(runner: &Runner) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(runner.pid) else {
            return false;
        };
        #[allow(unsafe_code)]
        // SAFETY: kill(2) with signal 0 only checks that the process exists; it sends nothing.
        let answered = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !answered {
            return false;
        }
        match stat_fields(runner.pid) {
            Some(('Z' | 'X', _)) => false,
            Some((_, now)) => match (runner.started, now) {
                (Some(then), Some(now)) => then == now,
                _ => true,
            },
            None => true,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = runner;
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_or_a_gone_one_is_not() {
        let me = this_process();
        assert!(alive(&me));
        #[cfg(target_os = "linux")]
        {
            assert!(me.started.is_some());
            let reused = Runner {
                started: me.started.map(|s| s + 1),
                ..me
            };
            assert!(!alive(&reused), "another process with the same pid");
        }
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(
            !alive(&Runner { pid, started: None }),
            "a process that exited"
        );
    }
}
