//! The `portcullis` command: parse arguments, run, exit with its code.

fn main() -> portcullis::cli::ExitStatus {
    portcullis::cli::main()
}
