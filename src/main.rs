//! The `portcullis` command: parse arguments, run, exit with its code.

/// Stack for the command's work. The engine's default limits bound every
/// recursion (see `Limits`); this leaves room for them even in a debug
/// build, whose frames are many times larger than a release build's.
const STACK_BYTES: usize = 256 << 20;

fn main() -> portcullis::cli::ExitStatus {
    let worker = std::thread::Builder::new()
        .name("portcullis".into())
        .stack_size(STACK_BYTES)
        .spawn(portcullis::cli::main);
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(status)) => status,
        // A panic has already printed its message; report unusable input.
        _ => portcullis::cli::ExitStatus::Unusable,
    }
}
