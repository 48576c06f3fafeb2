//! The finders: which lines of a text each rule of the filter can match, found with one pass
//! of each rule over the whole text (and none for a rule whose literals the text lacks).

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use super::base64_values::base64_runs;
use super::keys::KEY_HINT_PATTERN;
use super::pattern::re;
use super::rules::TOKEN_RULES;

pub(super) const KEY_BEGIN_PATTERN: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
pub(super) const PUTTY_PATTERN: &str = r"^\s*PuTTY-User-Key-File-\d+:";
pub(super) const URL_USERINFO_PATTERN: &str =
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@'\x22<>`]*:[^\s/'\x22<>`]*@";

/// The finders: each rule run once over the whole text (fast: most have a literal prefix),
/// to learn which lines a rule can match; the rule itself then runs on those lines only. One
/// set of all rules run line by line would be far slower: its automaton is too large to cache.
/// A finder has no `^\s*` anchor (a patch line has a prefix) and matches across lines at most
/// a superset of what the rule matches on one line.
static FINDERS: LazyLock<Finders> = LazyLock::new(|| {
    let mut patterns: Vec<&str> = TOKEN_RULES.iter().map(|r| r.pattern).collect();
    patterns.extend([
        KEY_BEGIN_PATTERN,
        PUTTY_PATTERN,
        URL_USERINFO_PATTERN,
        KEY_HINT_PATTERN,
    ]);
    let finders: Vec<String> = patterns
        .iter()
        .map(|p| format!("(?m){}", p.replace(r"^\s*", "")))
        .collect();
    // A finder whose every match starts with one of a few literals (`sk-`, `ghp_`, `AKIA`…)
    // is gated: one pass of a set of those literals says which finders can match at all, and
    // a text with none of a finder's literals (most texts, for most finders) skips it.
    let mut gates = Vec::new();
    let mut gated = Vec::new();
    for (i, f) in finders.iter().enumerate() {
        let needs = TOKEN_RULES.get(i).map_or(&[][..], |r| r.needs);
        let lits = if needs.is_empty() {
            prefix_literals(f)
        } else {
            Some(needs.iter().map(|n| (*n).to_owned()).collect())
        };
        if let Some(lits) = lits {
            gated.push((i, gates.len()));
            gates.push(
                lits.iter()
                    .map(|l| regex::escape(l))
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    Finders {
        regexes: finders.iter().map(|f| re(f)).collect(),
        gates: RegexSet::new(&gates).unwrap_or_else(|e| panic!("bad literal set: {e}")),
        gated,
    }
});

struct Finders {
    regexes: Vec<Regex>,
    /// One entry a gated finder: its literals as an alternation.
    gates: RegexSet,
    /// (finder, its entry in `gates`).
    gated: Vec<(usize, usize)>,
}

/// The literals every match of `pattern` starts with, when they are few and not too short to
/// be worth a pass of their own; `None`: the finder always runs.
fn prefix_literals(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut ex = regex_syntax::hir::literal::Extractor::new();
    ex.limit_total(64);
    let seq = ex.extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || seq.min_literal_len()? < 2 {
        return None;
    }
    lits.iter()
        .map(|l| std::str::from_utf8(l.as_bytes()).ok().map(str::to_owned))
        .collect()
}

#[derive(Clone, Copy)]
pub(super) enum Trigger {
    KeyBegin = 0,
    Putty,
    Url,
    Key,
    Base64,
}

/// Which finders matched on each line: bit `i` for token rule `i`, then the [`Trigger`]s.
pub(super) struct Hits(pub(super) Vec<u128>);

impl Hits {
    pub(super) fn of(text: &str, lines: &[usize]) -> Self {
        let mut hits = vec![0u128; lines.len()];
        let line_of = |offset: usize| lines.partition_point(|&start| start <= offset) - 1;
        let open = FINDERS.gates.matches(text);
        let mut skip = vec![false; FINDERS.regexes.len()];
        for &(finder, gate) in &FINDERS.gated {
            skip[finder] = !open.matched(gate);
        }
        let base64 = 1u128 << (TOKEN_RULES.len() + Trigger::Base64 as usize);
        for (start, _) in base64_runs(text) {
            hits[line_of(start)] |= base64;
        }
        for (bit, finder) in FINDERS.regexes.iter().enumerate() {
            if skip[bit] {
                continue;
            }
            for m in finder.find_iter(text) {
                let last = line_of(m.end().saturating_sub(1).max(m.start()));
                for h in &mut hits[line_of(m.start())..=last] {
                    *h |= 1 << bit;
                }
            }
        }
        Self(hits)
    }

    pub(super) fn rule(&self, line: usize, idx: usize) -> bool {
        self.0[line] & (1 << idx) != 0
    }

    pub(super) fn trigger(&self, line: usize, t: Trigger) -> bool {
        self.rule(line, TOKEN_RULES.len() + t as usize)
    }
}

/// Each finder's time over `text` (pattern, microseconds, matches): for tuning the filter.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub fn finder_costs(text: &str) -> Vec<(String, u128, usize)> {
    FINDERS
        .regexes
        .iter()
        .map(|r| {
            let t = std::time::Instant::now();
            let n = r.find_iter(text).count();
            (
                r.as_str().chars().take(60).collect(),
                t.elapsed().as_micros(),
                n,
            )
        })
        .collect()
}
