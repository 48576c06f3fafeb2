//! The async runtime every mode of the binary runs on (the server, a command, a job's runner):
//! two worker threads, IO and time enabled.

/// A new multi-threaded runtime with two workers.
pub fn multi_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}
