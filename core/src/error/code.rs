//! The error codes front ends show programs (`kind` in a tool's error, `--json` errors): one
//! taxonomy, derived from the error itself, beside [`ErrorKind`](super::ErrorKind) (what a
//! person can do about it).

use super::Error;

/// What failed, for a program to branch on. Serialized in snake_case (`"not_signed_in"`, …);
/// [`ErrorCode::Error`] (`"error"`) is every failure without a code of its own.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No credentials for the profile.
    NotSignedIn,
    /// The sign-in ended (revoked, expired, refused): sign in again.
    SessionExpired,
    /// The plan's Codex usage is used up until a reset.
    UsageLimit,
    /// `claude_budget_percent` of the weekly window is reached.
    Budget,
    /// The network failed or the answer stream broke off.
    Network,
    /// The conversation no longer fits the model's context window.
    ContextLengthExceeded,
    /// Codex failed the response.
    ResponseFailed,
    /// The model is unknown, refused or rejected.
    Model,
    /// The model does not take that reasoning effort.
    ReasoningEffort,
    /// The account has no model to use.
    NoModels,
    /// The plan does not include Codex.
    Plan,
    /// A network filter (e.g. Cloudflare's challenge page) blocked the request.
    NetworkBlocked,
    /// The backend answered with an error.
    Backend,
    /// The profile is locked by another process for too long.
    Busy,
    /// A kept conversation could not be read.
    CorruptConversation,
    /// A pasted redirect was refused.
    RedirectRefused,
    /// The sign-in to complete has ended.
    SignInEnded,
    /// No browser sign-in is pending to complete.
    NoPendingSignIn,
    /// A prompt over the size limit.
    PromptTooLarge,
    /// A `conversation_id` not kept (or never given out).
    UnknownConversation,
    /// None of the named files can be sent.
    NoFiles,
    /// The model takes text only.
    ImagesUnsupported,
    /// An image that cannot be sent.
    BadImage,
    /// The caller cancelled the call.
    Cancelled,
    /// The call passed its time limit (`timeout_seconds`).
    TimedOut,
    /// The account runs as many background jobs as it may.
    TooManyJobs,
    /// No job by that id is kept.
    UnknownJob,
    /// A background job's process stopped before the job ended.
    JobStopped,
    /// Any other failure.
    Error,
}

/// Input a use case refuses before anything is sent: its code and a message that says what to
/// change ([`Error::Refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    PromptTooLarge,
    UnknownConversation,
    NoFiles,
    ImagesUnsupported,
    BadImage,
    Cancelled,
    TooManyJobs,
    UnknownJob,
}

impl Refusal {
    pub fn code(self) -> ErrorCode {
        match self {
            Refusal::PromptTooLarge => ErrorCode::PromptTooLarge,
            Refusal::UnknownConversation => ErrorCode::UnknownConversation,
            Refusal::NoFiles => ErrorCode::NoFiles,
            Refusal::ImagesUnsupported => ErrorCode::ImagesUnsupported,
            Refusal::BadImage => ErrorCode::BadImage,
            Refusal::Cancelled => ErrorCode::Cancelled,
            Refusal::TooManyJobs => ErrorCode::TooManyJobs,
            Refusal::UnknownJob => ErrorCode::UnknownJob,
        }
    }
}

impl Error {
    /// The code of this error (see [`ErrorCode`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotSignedIn { .. } => ErrorCode::NotSignedIn,
            e if e.needs_sign_in() => ErrorCode::SessionExpired,
            Error::Refused { why, .. } => why.code(),
            Error::UsageLimit { .. } => ErrorCode::UsageLimit,
            Error::BudgetReached { .. } => ErrorCode::Budget,
            Error::Network { .. } | Error::StreamEnded { .. } => ErrorCode::Network,
            Error::ResponseFailed { code, .. }
                if code.as_deref() == Some("context_length_exceeded") =>
            {
                ErrorCode::ContextLengthExceeded
            }
            Error::ResponseFailed { .. } => ErrorCode::ResponseFailed,
            Error::UnknownModel { .. }
            | Error::ModelRefused { .. }
            | Error::ModelRejected { .. } => ErrorCode::Model,
            Error::UnsupportedEffort { .. } => ErrorCode::ReasoningEffort,
            Error::NoModels { .. } => ErrorCode::NoModels,
            Error::PlanExcludesCodex { .. } => ErrorCode::Plan,
            Error::NetworkBlocked { .. } => ErrorCode::NetworkBlocked,
            Error::Backend { .. } | Error::Http { .. } | Error::BadResponse { .. } => {
                ErrorCode::Backend
            }
            Error::LockTimeout { .. } => ErrorCode::Busy,
            Error::ConversationCorrupt { .. } => ErrorCode::CorruptConversation,
            Error::RedirectRefused { .. } => ErrorCode::RedirectRefused,
            Error::SignInEnded | Error::SignInFailed { .. } => ErrorCode::SignInEnded,
            Error::NoBrowserSignIn => ErrorCode::NoPendingSignIn,
            Error::LoginCancelled => ErrorCode::Cancelled,
            Error::TimedOut { .. } => ErrorCode::TimedOut,
            _ => ErrorCode::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_are_written_in_snake_case_and_refusals_keep_theirs() {
        let code = |e: &Error| serde_json::to_value(e.code()).unwrap();
        assert_eq!(
            code(&Error::NotSignedIn {
                profile: "p".into()
            }),
            "not_signed_in"
        );
        assert_eq!(
            code(&Error::refused(Refusal::NoFiles, "none of them")),
            "no_files"
        );
        assert_eq!(code(&Error::Input("x".into())), "error");
        assert_eq!(
            Error::refused(Refusal::PromptTooLarge, "big").kind(),
            super::super::ErrorKind::Input
        );
        assert_eq!(
            Error::refused(Refusal::Cancelled, "stopped").kind(),
            super::super::ErrorKind::Cancelled
        );
    }
}
